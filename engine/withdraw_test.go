package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// The work of a step is withdrawn once its result is in the log, and the
// work of the step a cancelled run was at, whichever engine reads the log:
// an engine that never saw the run (another server, or this one after a
// crash) withdraws it from the log alone. An ignored result withdraws
// nothing.
func TestWorkIsWithdrawnOnceItsStepIsDone(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	e := w.engine(&recorder{})
	change := w.created("app-4")
	runID := change.CorrelationID
	must(t, e.Handle(ctx, []domain.Event{change}))
	for i, step := range []engine.Result{ok("compile", "compiler"), ok("compile", "compiler")} {
		step.RunID, step.MessageID = runID, fmt.Sprintf("result-%d", i)
		must(t, e.RecordResult(ctx, step))
	}
	cancelled := w.created("app-5")
	must(t, e.Handle(ctx, []domain.Event{cancelled}))
	_, err := w.cmd.CancelRun(ctx, commands.CancelRun{RunID: cancelled.CorrelationID, Reason: "test", RequestID: uuid.NewString()})
	must(t, err)

	other := &recorder{}
	fresh := w.engine(other)
	for _, id := range []string{runID, cancelled.CorrelationID} {
		for _, m := range w.messages(id) {
			must(t, fresh.Handle(ctx, m))
		}
	}
	want := []string{
		"compiler build " + engine.StepMessageID(runID, "compile", 1),
		"compiler build " + engine.StepMessageID(cancelled.CorrelationID, "compile", 1),
	}
	if diff := cmp.Diff(want, other.gone()); diff != "" {
		t.Errorf("withdrawn (-want +got):\n%s", diff)
	}
	stops := []engine.Stop{{Driver: "compiler", RunID: cancelled.CorrelationID, Step: "compile", Attempt: 1, Reason: "the run was cancelled"}}
	if diff := cmp.Diff(stops, other.stopped()); diff != "" {
		t.Errorf("stop notices (-want +got): only the cancelled run's step in flight gets one\n%s", diff)
	}
}
