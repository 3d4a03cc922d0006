package engine

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/conveyor/conveyor/domain"
)

// withdrawDone withdraws the work of the steps that a message of a run's
// log says no longer wait for it: a step whose result was recorded (not an
// ignored one), a step whose attempt timed out, and the steps a cancelled
// run had out. It works from the log, so a server that crashed after
// recording a result withdraws its work when the message is delivered again.
func (e *Engine) withdrawDone(ctx context.Context, runID string, events []domain.Event) error {
	var errs []error
	for _, ev := range events {
		switch ev := ev.(type) {
		case *domain.DriverResultRecorded:
			if ev.Ignored != "" || ev.Step == "" || ev.Attempt == 0 {
				continue
			}
			typ, _, _ := strings.Cut(ev.Resource, "/")
			errs = append(errs, e.withdraw(ctx, runID, typ, e.runsOn(runID, ev.Step), domain.StepState{ID: ev.Step, Driver: ev.Result.Driver, Attempt: ev.Attempt}))
		case *domain.StepTimedOut:
			st, err := e.cmd.LoadRun(ctx, runID)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			i := slices.IndexFunc(st.Run.Steps, func(s domain.StepState) bool { return s.ID == ev.Step })
			if i >= 0 && st.Run.Steps[i].Driver != "" {
				errs = append(errs, e.withdrawAndStop(ctx, runID, st.Run.Resource.Type, st.Run.RunsOn(ev.Step),
					domain.StepState{ID: ev.Step, Driver: st.Run.Steps[i].Driver, Attempt: ev.Attempt}, "the attempt timed out"))
			}
		case *domain.RunCancelled:
			errs = append(errs, e.withdrawCurrent(ctx, runID, "the run was cancelled"))
		case *domain.RunFailed:
			errs = append(errs, e.withdrawCurrent(ctx, runID, "the run failed: "+ev.Message))
		}
	}
	return errors.Join(errs...)
}

// withdrawCurrent withdraws the work of the steps an ended run had
// dispatched and not had results for, and tells their drivers to stop.
func (e *Engine) withdrawCurrent(ctx context.Context, runID, reason string) error {
	st, err := e.cmd.LoadRun(ctx, runID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, step := range st.Run.Steps {
		if step.Driver == "" || step.Attempt == 0 || step.DispatchedAt == nil || step.Result != nil {
			continue // never dispatched, or its result is in
		}
		errs = append(errs, e.withdrawAndStop(ctx, runID, st.Run.Resource.Type, st.Run.RunsOn(step.ID), step, reason))
	}
	return errors.Join(errs...)
}

// withdrawAndStop withdraws the work of a step still out and tells its
// driver to stop it, saying why.
func (e *Engine) withdrawAndStop(ctx context.Context, runID, resourceType string, runsOn []string, step domain.StepState, reason string) error {
	return errors.Join(e.withdraw(ctx, runID, resourceType, runsOn, step),
		e.dispatch.Stop(ctx, Stop{Driver: step.Driver, RunID: runID, Step: step.ID, Attempt: step.Attempt, Reason: reason}))
}

func (e *Engine) withdraw(ctx context.Context, runID, resourceType string, runsOn []string, step domain.StepState) error {
	return e.dispatch.Withdraw(ctx, Work{Driver: step.Driver, RunsOn: runsOn, Resource: domain.Resource{Type: resourceType},
		RunID: runID, Step: step.ID, Attempt: step.Attempt, MessageID: StepMessageID(runID, step.ID, step.Attempt)})
}

// runsOn is the label set of a step of a run this engine holds in memory;
// nil when it holds none. The dispatcher finds a step's work by where it
// stored it, and only otherwise by its subject, which the labels name.
func (e *Engine) runsOn(runID, step string) []string {
	if k, ok := e.runs.get(runID); ok && k.state != nil {
		return k.state.Run.RunsOn(step)
	}
	return nil
}
