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

// settle brings the run and its concurrency groups in line, the run's
// own (settleRun) and those of its steps (settleSteps), and returns the run
// as it is after.
func (e *Engine) settle(ctx context.Context, st *commands.RunState) (*commands.RunState, error) {
	st, err := e.settleRun(ctx, st)
	if err != nil {
		return st, err
	}
	return e.settleSteps(ctx, st)
}

// settleRun brings the run and its concurrency group in line, and returns the
// run as it is after: nothing for a run without a group, or one that runs;
// a queued run joins the group and runs if admitted (or ends if skipped); a
// run that ended leaves the group.
func (e *Engine) settleRun(ctx context.Context, st *commands.RunState) (*commands.RunState, error) {
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

// settleSteps brings the steps of the run that name concurrency groups in
// line with their groups, and returns the run as it is after: each queued
// step joins its group, and is dispatched when admitted (or skipped, with
// the steps that need it); then each step done with its group (it ended
// for good, or the run did) leaves it, which admits the next in line
// through the group's events. A decision on one step may queue another (a
// skipped step ends, an admitted one is dispatched), so joining goes on
// until nothing changes.
func (e *Engine) settleSteps(ctx context.Context, st *commands.RunState) (*commands.RunState, error) {
	for range 2*len(st.Run.Steps) + 1 {
		queued, _ := st.Run.StepPlaces()
		changed := false
		for _, s := range queued {
			next, err := e.joinStep(ctx, st, s)
			if err != nil {
				return st, err
			}
			if next != st {
				st, changed = next, true
				break
			}
		}
		if !changed {
			break
		}
	}
	_, done := st.Run.StepPlaces()
	for _, s := range done {
		reason := "the step " + s.Status
		if st.Run.Ended() {
			reason = "the run " + st.Run.Status
		}
		if _, err := e.cmd.LeaveGroup(ctx, commands.LeaveGroup{RunID: st.Run.ID, Step: s.ID, Group: s.Concurrency.Group, Reason: reason}); err != nil {
			return st, err
		}
	}
	return st, nil
}

// joinStep asks the group of queued step s for a place, and records what
// it answers on the run: it returns the run after, st itself when nothing
// was recorded (the step waits).
func (e *Engine) joinStep(ctx context.Context, st *commands.RunState, s domain.StepState) (*commands.RunState, error) {
	// Its run's order; failing that (a run of an older server), where it
	// was queued, as for a retried run.
	order := s.Concurrency.Order
	if order == 0 {
		order = st.LastSeq
	}
	outcome, err := e.cmd.JoinGroup(ctx, commands.JoinGroup{RunID: st.Run.ID, Step: s.ID, Concurrency: *s.Concurrency, QueuedAt: order})
	if err != nil {
		return st, err
	}
	var out commands.Outcome
	switch outcome {
	case domain.Admitted:
		out, err = e.cmd.AdmitStep(ctx, commands.AdmitStep{RunID: st.Run.ID, Step: s.ID, Known: st})
	case domain.Skipped, domain.Superseded:
		out, err = e.cmd.SkipStep(ctx, commands.SkipStep{RunID: st.Run.ID, Step: s.ID, Known: st, Superseded: outcome == domain.Superseded})
	default:
		return st, nil
	}
	if err != nil || out.State == nil || out.State.LastSeq == st.LastSeq {
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
			err = e.on(ctx, ev.RunID, func(ctx context.Context) error {
				if ev.Step != "" {
					return e.admitStep(ctx, ev.RunID, ev.Step, ev.ID)
				}
				return e.admit(ctx, ev.RunID, ev.ID)
			})
		case *domain.GroupRunReleased:
			if ev.Cancel {
				reason := ev.Reason
				if ev.Step != "" {
					reason = "step " + ev.Step + " " + reason
				}
				err = e.on(ctx, ev.RunID, func(ctx context.Context) error {
					out, err := e.cmd.CancelForGroup(ctx, commands.CancelForGroup{RunID: ev.RunID, Step: ev.Step, Reason: reason, CausationID: ev.ID})
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

// admitStep lets a step that its group admitted be dispatched, and
// publishes its work; like admit, it does not ask the group again. The
// run as this engine remembers it may be older than the step's
// StepQueued (another server decided since, and this one was not handed
// that message): admitting a step that is not queued records nothing, so
// then the run is read from the log, which holds StepQueued before the
// group could admit the step.
func (e *Engine) admitStep(ctx context.Context, runID, step, causationID string) error {
	st, err := e.current(ctx, runID)
	if err != nil {
		return err
	}
	if !stepQueued(st.Run, step) {
		loaded, err := e.cmd.LoadRun(ctx, runID)
		if err != nil {
			return err
		}
		st = &loaded
	}
	out, err := e.cmd.AdmitStep(ctx, commands.AdmitStep{RunID: runID, Step: step, CausationID: causationID, Known: st})
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

// stepQueued reports whether the run's step waits for a place in its group.
func stepQueued(run domain.Run, step string) bool {
	for _, s := range run.Steps {
		if s.ID == step {
			return s.Status == domain.StepStatusQueued
		}
	}
	return false
}
