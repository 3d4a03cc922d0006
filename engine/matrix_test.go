package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/conveyor/conveyor/adapters/conditions"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
)

// A 3 × 2 matrix run two at a time, one instance of which fails: with
// failFast (the default) the instances not yet started are skipped; without
// it every instance runs. Either way the matrix step fails as a group, the
// step that needs it is skipped, and the run fails. Each instance's work
// carries its id, its own message id and its values in its parameters.
func TestMatrixWithAFailingInstance(t *testing.T) {
	no := false
	for _, c := range []struct {
		name     string
		failFast *bool
		ran      int // instances dispatched in all
	}{{"failFast on", nil, 2}, {"failFast off", &no, 6}} {
		t.Run(c.name, func(t *testing.T) {
			conds, err := conditions.New()
			must(t, err)
			w := newWorldWith(t, conds)
			ctx := context.Background()
			_, _, err = w.cmd.SavePipeline(ctx, commands.SavePipeline{Pipeline: domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{
				{ID: "test", Driver: "go-test", FailFast: c.failFast, MaxParallel: 2,
					Matrix: domain.Matrix{"go": json.RawMessage(`["1.24", "1.25", "1.26"]`), "os": json.RawMessage(`["linux", "darwin"]`)},
					With:   json.RawMessage(`{"version": "${{ matrix.go }}", "target": "${{ matrix.os }}-amd64"}`)},
				{ID: "publish", Driver: "uploader"},
			}}}, commands.CreateOrUpdate)
			must(t, err)
			d := &recorder{}
			e := w.engine(d)
			change := w.created("app-1")
			runID := change.CorrelationID
			must(t, e.Handle(ctx, []domain.Event{change}))

			first := d.all()
			if len(first) != 2 || first[0].Step != "test[go=1.24,os=linux]" || first[1].Step != "test[go=1.24,os=darwin]" {
				t.Fatalf("first dispatches %v, want the first two instances (maxParallel 2)", steps(first))
			}
			if w := first[1]; string(w.With) != `{"target":"darwin-amd64","version":"1.24"}` || w.MessageID != runID+".test[go=1.24,os=darwin].1" || w.Event != "create" {
				t.Errorf("work of %s: with %s, message id %s, event %s", w.Step, w.With, w.MessageID, w.Event)
			}
			failed := first[0].Step
			must(t, e.RecordResult(ctx, engine.Result{RunID: runID, MessageID: "r-0", Step: failed,
				Result: domain.DriverResult{Success: false, Driver: "go-test", Message: "tests failed"}}))
			// Every instance dispatched succeeds, until nothing more is.
			for n := 1; n < 10; n++ {
				var waiting []engine.Work
				run, err := w.cmd.LoadRun(ctx, runID)
				must(t, err)
				for _, s := range run.Run.InFlight() {
					waiting = append(waiting, engine.Work{Step: s.ID})
				}
				if len(waiting) == 0 {
					break
				}
				for _, work := range waiting {
					must(t, e.RecordResult(ctx, engine.Result{RunID: runID, MessageID: fmt.Sprintf("r-%d-%s", n, work.Step), Step: work.Step,
						Result: domain.DriverResult{Success: true, Driver: "go-test"}}))
				}
			}
			// Each instance's work is published once, however many results
			// came while it ran.
			all := d.all()
			if got := steps(all); len(got) != c.ran || slices.Contains(got, "publish") {
				t.Errorf("dispatched %v, want %d instances, each once, and no publish", got, c.ran)
			}
			run, err := w.cmd.LoadRun(ctx, runID)
			must(t, err)
			r := run.Run
			if r.Status != domain.RunStatusFailed || r.MatrixStatus("test") != domain.StepStatusFailed {
				t.Errorf("run %s, matrix step %s; want both failed", r.Status, r.MatrixStatus("test"))
			}
			publish := r.Steps[len(r.Steps)-1]
			if publish.ID != "publish" || publish.Status != domain.StepStatusSkipped || publish.Reason != "needs step "+failed+", which failed" {
				t.Errorf("publish %s %q, want skipped as it needs the failed instance", publish.Status, publish.Reason)
			}
			skipped := 0
			for _, s := range r.Steps[:6] {
				if s.Matrix == nil || s.Matrix.Group != "test" {
					t.Errorf("step %s names no matrix group: %+v", s.ID, s.Matrix)
				}
				if s.Status == domain.StepStatusSkipped {
					skipped++
				}
			}
			if skipped != 6-c.ran {
				t.Errorf("%d instances skipped, want %d", skipped, 6-c.ran)
			}
		})
	}
}

// A step that needs a matrix step runs once every instance succeeded, and
// gets each of their results.
func TestAStepAfterAMatrixWaitsForEveryInstance(t *testing.T) {
	conds, err := conditions.New()
	must(t, err)
	w := newWorldWith(t, conds)
	ctx := context.Background()
	_, _, err = w.cmd.SavePipeline(ctx, commands.SavePipeline{Pipeline: domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{
		{ID: "test", Driver: "go-test", Matrix: domain.Matrix{"go": json.RawMessage(`["1.25", "1.26"]`)}},
		{ID: "publish", Driver: "uploader", When: `results["test[go=1.26]"].success`},
	}}}, commands.CreateOrUpdate)
	must(t, err)
	d := &recorder{}
	e := w.engine(d)
	change := w.created("app-2")
	runID := change.CorrelationID
	must(t, e.Handle(ctx, []domain.Event{change}))
	must(t, e.RecordResult(ctx, engine.Result{RunID: runID, MessageID: "r-1", Step: "test[go=1.26]", Result: domain.DriverResult{Success: true, Driver: "go-test"}}))
	if got := steps(d.all()); slices.Contains(got, "publish") {
		t.Fatalf("publish dispatched with an instance still running: %v", got)
	}
	must(t, e.RecordResult(ctx, engine.Result{RunID: runID, MessageID: "r-2", Step: "test[go=1.25]", Result: domain.DriverResult{Success: true, Driver: "go-test"}}))
	if got := steps(d.all()); !slices.Equal(got, []string{"test[go=1.25]", "test[go=1.26]", "publish"}) {
		t.Fatalf("dispatched %v, want both instances, then publish", got)
	}
}

// steps is the steps of works, in order.
func steps(works []engine.Work) []string {
	var out []string
	for _, w := range works {
		out = append(out, w.Step)
	}
	return out
}
