package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/adapters/conditions"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
)

// A step's `with` reaches its driver evaluated: literal values as written,
// ${{ }} over the resource and the results of the steps it needs, and the
// dispatch in the log records what was sent. An expression that cannot be
// evaluated fails its step, saying which parameter and why, and nothing is
// dispatched.
func TestStepParametersAreEvaluatedAtDispatch(t *testing.T) {
	conds, err := conditions.New()
	must(t, err)
	w := newWorldWith(t, conds)
	ctx := context.Background()
	_, _, err = w.cmd.SavePipeline(ctx, commands.SavePipeline{Pipeline: domain.Pipeline{Name: "params", Resource: "build", Steps: []domain.Step{
		{ID: "compile", Driver: "compiler", With: json.RawMessage(`{"ref": "${{ resource.spec.ref }}", "depth": 1.50,
			"title": "${{ resource.name }} at ${{ resource.spec.ref }}, ${{ resource.spec.files }} files"}`)},
		{ID: "upload", Driver: "uploader", With: json.RawMessage(`{"digest": "${{ results.compile.data.digest }}", "files": "${{ resource.spec.files }}"}`)},
		{ID: "notify", Driver: "notifier", With: json.RawMessage(`{"to": "${{ resource.spec.owner }}"}`)},
	}}}, commands.CreateOnly)
	must(t, err)
	d := &recorder{}
	e := w.engine(d)
	_, err = w.cmd.CreateResource(ctx, commands.CreateResource{Resource: domain.Resource{Name: "app-1", Type: "build", Pipeline: "params",
		Spec: json.RawMessage(`{"ref": "main", "files": 12}`)}})
	must(t, err)
	events, err := w.store.Load(ctx, domain.AggregateResource, "build/app-1")
	must(t, err)
	change := events[0].(*domain.ResourceCreated)
	runID := change.CorrelationID
	must(t, e.Handle(ctx, []domain.Event{change}))

	sent := func(step string) string {
		for _, work := range d.all() {
			if work.Step == step {
				return string(work.With)
			}
		}
		return "(not dispatched)"
	}
	if got, want := sent("compile"), `{"depth":1.50,"ref":"main","title":"app-1 at main, 12 files"}`; got != want {
		t.Errorf("compile was sent with %s, want %s", got, want)
	}
	result := engine.Result{RunID: runID, MessageID: "r-1", Step: "compile",
		Result: domain.DriverResult{Success: true, Driver: "compiler", Data: json.RawMessage(`{"digest": "sha256:42"}`)}}
	must(t, e.RecordResult(ctx, result))
	if got, want := sent("upload"), `{"digest":"sha256:42","files":12}`; got != want {
		t.Errorf("upload was sent with %s, want %s", got, want)
	}
	var recorded string
	for _, m := range w.messages(runID) {
		for _, ev := range m {
			if dispatched, ok := ev.(*domain.StepDispatched); ok && dispatched.Step == "upload" {
				recorded = string(dispatched.With)
			}
		}
	}
	if recorded != sent("upload") {
		t.Errorf("the log records the upload's dispatch with %s, but %s was sent", recorded, sent("upload"))
	}

	result = engine.Result{RunID: runID, MessageID: "r-2", Step: "upload", Result: domain.DriverResult{Success: true, Driver: "uploader"}}
	must(t, e.RecordResult(ctx, result))
	if got := sent("notify"); got != "(not dispatched)" {
		t.Errorf("notify, whose parameter cannot be evaluated, was sent with %s", got)
	}
	run, err := w.cmd.LoadRun(ctx, runID)
	must(t, err)
	notify := run.Run.Steps[2]
	want := "its parameter with.to, ${{ resource.spec.owner }}, could not be evaluated: no such key: owner"
	if run.Run.Status != domain.RunStatusFailed || notify.Status != domain.StepStatusFailed || notify.Result == nil || notify.Result.Message != want {
		t.Errorf("run %s, notify %+v; want both failed with %q", run.Run.Status, notify, want)
	}
	if !strings.Contains(run.Run.Message, want) {
		t.Errorf("the run's message %q does not say why", run.Run.Message)
	}
}
