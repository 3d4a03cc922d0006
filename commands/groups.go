package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// JoinGroup asks a queued run's concurrency group for a place, or a queued
// step's group, when Step names it.
type JoinGroup struct {
	RunID       string
	Step        string
	Concurrency domain.RunConcurrency
	// QueuedAt is the log position of the run's RunQueued (0: unknown):
	// the queue keeps runs in this order.
	QueuedAt    uint64
	CausationID string
}

// JoinGroup records what the group decides for the run (see
// domain.GroupAggregate.Join) and answers it. Its append is guarded by the
// group's last position: when another server changed the group in between,
// it reads the group again and decides anew, so the group never holds more
// runs than its limit, whoever admits them. It is idempotent.
func (h *Handler) JoinGroup(ctx context.Context, c JoinGroup) (domain.JoinOutcome, error) {
	var outcome domain.JoinOutcome
	err := h.decideGroup(ctx, c.Concurrency.Group, func(g *domain.GroupAggregate) {
		outcome = g.JoinAs(domain.Holder{RunID: c.RunID, Step: c.Step}, c.Concurrency.Limit, c.Concurrency.OnFull, c.QueuedAt, h.cause(c.RunID, c.CausationID))
	})
	return outcome, err
}

// LeaveGroup releases a run that ended from its concurrency group, or the
// run's step Step, when Step names one that is done with its group.
type LeaveGroup struct {
	RunID, Step, Group, Reason, CausationID string
}

// LeaveGroup records the release and the admission of the holders that
// the freed place lets in, in one message, and returns their keys
// (domain.Holder.Key: a run's id for a run). A holder the group does not
// hold records nothing. It is idempotent.
func (h *Handler) LeaveGroup(ctx context.Context, c LeaveGroup) ([]string, error) {
	var admitted []string
	err := h.decideGroup(ctx, c.Group, func(g *domain.GroupAggregate) {
		for _, a := range g.LeaveAs(domain.Holder{RunID: c.RunID, Step: c.Step}, c.Reason, h.cause(c.RunID, c.CausationID)) {
			admitted = append(admitted, a.Key())
		}
	})
	return admitted, err
}

// LoadGroup returns the concurrency group named name as the log has it.
func (h *Handler) LoadGroup(ctx context.Context, name string) (domain.ConcurrencyGroup, error) {
	g := domain.NewGroup(name)
	_, err := h.load(ctx, domain.AggregateConcurrency, domain.GroupID(name), g)
	return g.State(), err
}

// decideGroup lets decide record events on the group and appends them as
// one message, deciding again on the group as the log has it after a lost
// race.
func (h *Handler) decideGroup(ctx context.Context, name string, decide func(*domain.GroupAggregate)) error {
	for {
		g := domain.NewGroup(name)
		l, err := h.load(ctx, domain.AggregateConcurrency, domain.GroupID(name), g)
		if err != nil {
			return err
		}
		decide(g)
		g.SnapshotIfDue()
		err = h.save(ctx, l, g)
		if !errors.Is(err, domain.ErrConflict) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// AdmitRun lets a queued run that its group admitted run.
type AdmitRun struct {
	RunID, CausationID string
	Known              *RunState // nil: load the run from the log
}

// AdmitRun records RunAdmitted and the dispatch of the run's first steps in
// one message. A run that is not queued records nothing.
func (h *Handler) AdmitRun(ctx context.Context, c AdmitRun) (Outcome, error) {
	return h.decideRun(ctx, c.RunID, c.CausationID, c.Known, func(run *domain.RunAggregate, cause domain.Cause) error {
		run.Admit(cause)
		if len(run.Changes()) > 0 {
			run.Advance(h.cause(c.RunID, run.Changes()[0].EventMeta().ID))
		}
		return nil
	})
}

// SkipRun ends a queued run whose group is full and whose onFull is skip,
// or that newer runs superseded (cancel-running).
type SkipRun struct {
	RunID, CausationID string
	Known              *RunState // nil: load the run from the log
	// Superseded: newer runs hold the group's places (cancel-running).
	Superseded bool
}

// SkipRun records the queued run as cancelled, with a reason that says it
// was skipped and why. A run that is not queued records nothing.
func (h *Handler) SkipRun(ctx context.Context, c SkipRun) (Outcome, error) {
	return h.decideRun(ctx, c.RunID, c.CausationID, c.Known, func(run *domain.RunAggregate, cause domain.Cause) error {
		st := run.State()
		if st.Status != domain.RunStatusQueued || st.Concurrency == nil {
			return nil
		}
		reason := fmt.Sprintf("skipped: concurrency group %q is full (limit %d, onFull skip)", st.Concurrency.Group, st.Concurrency.Limit)
		if c.Superseded {
			reason = fmt.Sprintf("skipped: runs made after this one hold concurrency group %q (cancel-running)", st.Concurrency.Group)
		}
		return run.Cancel(reason, cause)
	})
}

// CancelForGroup cancels a run that its group released for a newer run
// (cancel-running), or whose step Step the group released for a newer
// step. A run that has ended records nothing, nor one whose step is done
// with its group already (it ended before the release reached it).
type CancelForGroup struct {
	RunID, Step, Reason, CausationID string
	Known                            *RunState // nil: load the run from the log
}

// CancelForGroup records RunCancelled with the group's reason, unless the
// run has ended.
func (h *Handler) CancelForGroup(ctx context.Context, c CancelForGroup) (Outcome, error) {
	return h.decideRun(ctx, c.RunID, c.CausationID, c.Known, func(run *domain.RunAggregate, cause domain.Cause) error {
		if !run.Exists() || run.State().Ended() || c.Step != "" && !run.State().HoldsStepPlace(c.Step) {
			return nil
		}
		return run.Cancel(c.Reason, cause)
	})
}

// AdmitStep lets a queued step that its group admitted be dispatched.
type AdmitStep struct {
	RunID, Step, CausationID string
	Known                    *RunState // nil: load the run from the log
}

// AdmitStep records StepAdmitted and the decision that follows (the
// step's dispatch) in one message. A step that is not queued records
// nothing.
func (h *Handler) AdmitStep(ctx context.Context, c AdmitStep) (Outcome, error) {
	return h.decideRun(ctx, c.RunID, c.CausationID, c.Known, func(run *domain.RunAggregate, cause domain.Cause) error {
		run.AdmitStep(c.Step, cause)
		if len(run.Changes()) > 0 {
			run.Advance(h.cause(c.RunID, run.Changes()[0].EventMeta().ID))
		}
		return nil
	})
}

// SkipStep ends a queued step whose group is full and whose onFull is
// skip, or that newer runs superseded (cancel-running).
type SkipStep struct {
	RunID, Step, CausationID string
	Known                    *RunState // nil: load the run from the log
	Superseded               bool
}

// SkipStep records the queued step as skipped, saying why, and the
// decision that follows. A step that is not queued records nothing.
func (h *Handler) SkipStep(ctx context.Context, c SkipStep) (Outcome, error) {
	return h.decideRun(ctx, c.RunID, c.CausationID, c.Known, func(run *domain.RunAggregate, cause domain.Cause) error {
		run.SkipStep(c.Step, c.Superseded, cause)
		if len(run.Changes()) > 0 {
			run.Advance(h.cause(c.RunID, run.Changes()[0].EventMeta().ID))
		}
		return nil
	})
}
