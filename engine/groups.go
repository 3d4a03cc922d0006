package engine

import (
	"context"
	"errors"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
)

// Concurrency groups. A run whose pipeline bounds its concurrency starts
// queued; the engine settles it with its group whenever it holds the run's
// state (after each decision, before publishing its work): a queued run
// joins its group (and runs when admitted, or is skipped), a run that ended
// leaves it. What one run's change does to others (the next queued run
// admitted, the oldest running one released to be cancelled) is an event of
// the group, which reaches the engine through the log like a run's: so a
// crash between a run's end and the next run's admission is repaired when
// the group's message is delivered again, to this server or another.

// settle brings the run and its concurrency group in line, and returns the
// run as it is after: nothing for a run without a group, or one that runs;
// a queued run joins the group and runs if admitted (or ends if skipped); a
// run that ended leaves the group.
func (e *Engine) settle(ctx context.Context, st *commands.RunState) (*commands.RunState, error) {
	run := st.Run
	conc := run.Concurrency
	if conc == nil {
		return st, nil
	}
	switch {
	case run.Ended():
		_, err := e.cmd.LeaveGroup(ctx, commands.LeaveGroup{RunID: run.ID, Group: conc.Group, Reason: "the run " + run.Status})
		return st, err
	case run.Status != domain.RunStatusQueued:
		return st, nil
	}
	// The run waits in the order of the change that started it; failing
	// that (a retried run), where it was queued: a queued run records
	// nothing until it is admitted or ends, so that is its last position.
	order := conc.Order
	if order == 0 {
		order = st.LastSeq
	}
	outcome, err := e.cmd.JoinGroup(ctx, commands.JoinGroup{RunID: run.ID, Concurrency: *conc, QueuedAt: order})
	if err != nil {
		return st, err
	}
	var out commands.Outcome
	switch outcome {
	case domain.Admitted:
		out, err = e.cmd.AdmitRun(ctx, commands.AdmitRun{RunID: run.ID, Known: st})
	case domain.Skipped, domain.Superseded:
		out, err = e.cmd.SkipRun(ctx, commands.SkipRun{RunID: run.ID, Known: st, Superseded: outcome == domain.Superseded})
	default:
		return st, nil
	}
	if err != nil || out.State == nil {
		return st, err
	}
	return out.State, nil
}

// onGroup reacts to a message of a concurrency group: each run it admitted
// is brought forward (it runs), each run it released for cancellation is
// cancelled, each on its own worker.
func (e *Engine) onGroup(ctx context.Context, events []domain.Event) error {
	var errs []error
	for _, ev := range events {
		var err error
		switch ev := ev.(type) {
		case *domain.GroupRunAdmitted:
			err = e.on(ctx, ev.RunID, func(ctx context.Context) error { return e.admit(ctx, ev.RunID, ev.ID) })
		case *domain.GroupRunReleased:
			if ev.Cancel {
				err = e.on(ctx, ev.RunID, func(ctx context.Context) error {
					out, err := e.cmd.CancelForGroup(ctx, commands.CancelForGroup{RunID: ev.RunID, Reason: ev.Reason, CausationID: ev.ID})
					if err != nil {
						e.runs.forget(ev.RunID)
						return err
					}
					return e.publishOutstanding(ctx, out.State)
				})
			}
		}
		if errors.Is(err, domain.ErrNotFound) {
			err = nil // a run the log does not hold: nothing to do
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// admit lets a run that its group admitted (the event whose id is
// causationID says so) run, and publishes its work. It does not ask the
// group again: the log can deliver the group's message before a load of
// the group sees it.
func (e *Engine) admit(ctx context.Context, runID, causationID string) error {
	st, err := e.current(ctx, runID)
	if err != nil {
		return err
	}
	out, err := e.cmd.AdmitRun(ctx, commands.AdmitRun{RunID: runID, CausationID: causationID, Known: st})
	if err != nil {
		e.runs.forget(runID)
		return err
	}
	return e.publishOutstanding(ctx, out.State)
}

// current is the run as this engine remembers it, else as the log has it.
func (e *Engine) current(ctx context.Context, runID string) (*commands.RunState, error) {
	if k, ok := e.runs.get(runID); ok && k.state != nil {
		return k.state, nil
	}
	loaded, err := e.cmd.LoadRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	return &loaded, nil
}
