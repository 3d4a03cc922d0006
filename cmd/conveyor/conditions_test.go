package main

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/sdk"
)

// TestWhenSkipsAStepVisibly: a step whose condition is false is skipped,
// with the condition as its reason and an event of its own, the step that
// needs it is skipped too, and the run succeeds; on a resource for which
// the condition is true, the step runs.
func TestWhenSkipsAStepVisibly(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build", "steps": []map[string]any{
		{"id": "test", "driver": "tester"},
		{"id": "deploy", "driver": "deployer", "when": `resource.spec.ref == "main" && results.test.success`},
		{"id": "announce", "driver": "announcer"},
	}})
	var deploys, announces atomic.Int32
	runDriver(t, s, "tester", func(ctx context.Context, req sdk.Request) sdk.Result { return sdk.Result{Success: true} })
	runDriver(t, s, "deployer", func(ctx context.Context, req sdk.Request) sdk.Result {
		deploys.Add(1)
		return sdk.Result{Success: true}
	})
	runDriver(t, s, "announcer", func(ctx context.Context, req sdk.Request) sdk.Result {
		announces.Add(1)
		return sdk.Result{Success: true}
	})

	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("feature", "topic-branch"))["runid"].(string)
	run := s.waitRun(runID)
	deploy, announce := runStep(run, "deploy"), runStep(run, "announce")
	if run["status"] != "succeeded" || deploy["status"] != "skipped" || announce["status"] != "skipped" {
		t.Fatalf("run %v; deploy %v; announce %v", run["status"], deploy, announce)
	}
	if reason := deploy["reason"].(string); !strings.Contains(reason, `its condition is false: resource.spec.ref == "main"`) {
		t.Errorf("deploy skipped because %q", reason)
	}
	if skipped := eventsOfType(s.runEvents(runID), domain.TypeStepSkipped); len(skipped) != 1 || skipped[0]["step"] != "deploy" {
		t.Errorf("StepSkipped events %v, want one for deploy", skipped)
	}
	if deploys.Load() != 0 || announces.Load() != 0 {
		t.Errorf("%d deploys and %d announces ran on a topic branch", deploys.Load(), announces.Load())
	}

	runID = s.must(http.StatusCreated, "POST", "/resources", buildResource("trunk", "main"))["runid"].(string)
	if run := s.waitRun(runID); run["status"] != "succeeded" || runStep(run, "deploy")["status"] != "succeeded" || deploys.Load() != 1 {
		t.Fatalf("on main: run %v, deploy %v, %d deploys", run["status"], runStep(run, "deploy"), deploys.Load())
	}
}

// TestWhenThatCannotWork: a condition that does not compile is a 422 at
// its field and nothing is written; one that names what is not there fails
// its step, saying why, instead of skipping it unnoticed.
func TestWhenThatCannotWork(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	before := s.settle()
	status, body := s.callRaw("POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "a", "driver": "x", "when": "resource.spec.ref =="}}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "steps[0].when") || !strings.Contains(string(body), "is not a valid CEL expression") {
		t.Errorf("a broken condition: %d %s", status, body)
	}
	s.unchanged(before, "a pipeline with a broken condition")

	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "a", "driver": "x", "when": `resource.spec.branch == "main"`}}})
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app", "main"))["runid"].(string)
	run := s.waitRun(runID)
	step := runStep(run, "a")
	if run["status"] != "failed" || step["status"] != "failed" || !strings.Contains(run["message"].(string), "could not be evaluated") ||
		!strings.Contains(run["message"].(string), "no such key: branch") {
		t.Fatalf("a condition over a missing field: run %v %q, step %v", run["status"], run["message"], step)
	}
}
