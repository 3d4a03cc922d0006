package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/sdk"
)

// TestStepParametersReachTheDriver: a step's `with` reaches an SDK driver
// in req.With, literal values as written and expressions evaluated, and
// GET /runs/{id} shows what was sent; a parameter whose expression cannot
// be evaluated fails its step, naming the parameter and the expression,
// and its driver is not called.
func TestStepParametersReachTheDriver(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	if status, body := s.callRaw("POST", "/pipelines", `{"name": "ci", "resource": "build", "steps": [
		{"id": "build", "driver": "builder", "with": {"depth": 1.50, "big": 9007199254740993, "push": true, "tags": ["a", 2],
			"ref": "${{ resource.spec.ref }}", "title": "${{ resource.name }} at ${{ resource.spec.ref }} (${{ run.trigger }})"}},
		{"id": "scan", "driver": "builder", "with": {"branch": "${{ resource.spec.branch }}"}}]}`); status != http.StatusCreated {
		t.Fatalf("the pipeline: %d %s", status, body)
	}
	var mu sync.Mutex
	seen := map[string]string{}
	runDriver(t, s, "builder", func(ctx context.Context, req sdk.Request) sdk.Result {
		mu.Lock()
		seen[req.Step] = string(req.With)
		mu.Unlock()
		return sdk.Result{Success: true}
	})

	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "main"))["runid"].(string)
	run := s.waitRun(runID)
	want := `{"big":9007199254740993,"depth":1.50,"push":true,"ref":"main","tags":["a",2],"title":"app-1 at main (create)"}`
	mu.Lock()
	got, scanned := seen["build"], seen["scan"]
	mu.Unlock()
	if got != want {
		t.Errorf("the driver got with\n%s\nwant\n%s", got, want)
	}
	_, raw := s.callRaw("GET", "/runs/"+runID, nil)
	var view struct {
		Steps []struct {
			ID   string          `json:"id"`
			With json.RawMessage `json:"with"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(raw, &view); err != nil || len(view.Steps) != 2 || string(view.Steps[0].With) != want {
		t.Errorf("GET /runs/{id} shows the step's with as %s (%v), want %s", raw, err, want)
	}

	wantReason := "its parameter with.branch, ${{ resource.spec.branch }}, could not be evaluated: no such key: branch"
	scan := runStep(run, "scan")
	if run["status"] != "failed" || scan["status"] != "failed" || scan["result"].(map[string]any)["message"] != wantReason {
		t.Errorf("run %v %q, scan %v; want both failed: %s", run["status"], run["message"], scan, wantReason)
	}
	if failed := eventsOfType(s.runEvents(runID), domain.TypeParametersFailed); len(failed) != 1 || failed[0]["step"] != "scan" {
		t.Errorf("ParametersFailed events %v, want one for scan", failed)
	}
	if scanned != "" {
		t.Errorf("the driver ran scan, with %s", scanned)
	}
}

// TestStepParametersAreChecked: a `with` whose expression does not compile,
// that is not an object or that is too large is a 422 naming the step and
// the parameter, and nothing is written.
func TestStepParametersAreChecked(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	before := s.settle()
	for _, c := range []struct {
		with any
		want string
	}{
		{map[string]any{"image": "x/${{ resource.spec.ref + }}"}, `steps[1].with.image: ${{ resource.spec.ref + }} is not a valid CEL expression: ERROR: <input>:1:20: Syntax error`},
		{map[string]any{"image": "${{ secrets.password }}"}, `steps[1].with.image: ${{ secrets.password }} is not a valid CEL expression: ERROR: <input>:1:1: undeclared reference to 'secrets'`},
		{map[string]any{"list": []any{"${{ resource.name"}}, `steps[1].with.list[0]: an expression opened with ${{ is not closed with }}`},
		{"text", `expected object`},
		{map[string]any{"blob": strings.Repeat("x", domain.MaxWithBytes)}, `steps[1].with: is 16395 bytes; at most 16384 bytes are accepted`},
	} {
		status, body := s.callRaw("POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
			"steps": []map[string]any{{"id": "a", "driver": "x"}, {"id": "b", "driver": "x", "with": c.with}}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), c.want) {
			t.Errorf("with %.50v: %d %s, want 422 with %q", c.with, status, body, c.want)
		}
	}
	s.unchanged(before, "refused pipelines")
}
