package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"

	"github.com/conveyor/conveyor/sdk"
)

// TestMatrixEndToEnd: a 3 × 2 matrix step runs as six instances through an
// SDK driver, each handed its own values in its `with`
// (${{ matrix.go }}); the step that needs the matrix runs after all six;
// GET /runs/{id} shows each instance as a step naming its group and values.
// A matrix of 257 combinations is a 422 naming the step, and nothing is
// written.
func TestMatrixEndToEnd(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	if status, body := s.callRaw("POST", "/pipelines", `{"name": "ci", "resource": "build", "steps": [
		{"id": "test", "driver": "builder", "matrix": {"go": ["1.24", "1.25", "1.26"], "os": ["linux", "darwin"]},
			"with": {"go": "${{ matrix.go }}", "target": "${{ matrix.os }}/${{ resource.spec.ref }}"}},
		{"id": "publish", "driver": "builder", "with": {"all": "${{ results['test[go=1.26,os=darwin]'].message }}"}}]}`); status != http.StatusCreated {
		t.Fatalf("the pipeline: %d %s", status, body)
	}
	var mu sync.Mutex
	var order []string
	seen := map[string]string{}
	runDriver(t, s, "builder", func(ctx context.Context, req sdk.Request) sdk.Result {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, req.Step)
		seen[req.Step] = string(req.With)
		return sdk.Result{Success: true, Message: "ran " + req.Step}
	})

	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "main"))["runid"].(string)
	run := s.waitRun(runID)
	if run["status"] != "succeeded" {
		t.Fatalf("run %v: %v", run["status"], run["message"])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 7 || order[6] != "publish" {
		t.Fatalf("the driver ran %v, want six instances, then publish", order)
	}
	for _, goVersion := range []string{"1.24", "1.25", "1.26"} {
		for _, os := range []string{"linux", "darwin"} {
			id := fmt.Sprintf("test[go=%s,os=%s]", goVersion, os)
			if want := fmt.Sprintf(`{"go":"%s","target":"%s/main"}`, goVersion, os); seen[id] != want {
				t.Errorf("%s was handed %s, want %s", id, seen[id], want)
			}
		}
	}
	if want := `{"all":"ran test[go=1.26,os=darwin]"}`; seen["publish"] != want {
		t.Errorf("publish was handed %s, want %s", seen["publish"], want)
	}

	_, raw := s.callRaw("GET", "/runs/"+runID, nil)
	var view struct {
		Steps []struct {
			ID      string `json:"id"`
			Status  string `json:"status"`
			Attempt int    `json:"attempt"`
			Matrix  *struct {
				Group  string                     `json:"group"`
				Values map[string]json.RawMessage `json:"values"`
			} `json:"matrix"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(raw, &view); err != nil || len(view.Steps) != 7 {
		t.Fatalf("GET /runs/{id}: %v %s", err, raw)
	}
	for _, st := range view.Steps[:6] {
		if st.Matrix == nil || st.Matrix.Group != "test" || st.Status != "succeeded" || st.Attempt != 1 ||
			st.ID != fmt.Sprintf("test[go=%s,os=%s]", strings.Trim(string(st.Matrix.Values["go"]), `"`), strings.Trim(string(st.Matrix.Values["os"]), `"`)) {
			t.Errorf("step %s %s attempt %d, matrix %+v", st.ID, st.Status, st.Attempt, st.Matrix)
		}
	}
	if st := view.Steps[6]; st.ID != "publish" || st.Matrix != nil {
		t.Errorf("the last step %s names a matrix %+v", st.ID, st.Matrix)
	}
	// Each instance's dispatch is an event of its own.
	var dispatched []string
	for _, e := range eventsOfType(s.runEvents(runID), "StepDispatched.v1") {
		dispatched = append(dispatched, e["step"].(string))
	}
	if len(dispatched) != 7 || !slices.Contains(dispatched, "test[go=1.25,os=darwin]") {
		t.Errorf("StepDispatched for %v", dispatched)
	}

	before := s.settle()
	values := make([]int, 257)
	for i := range values {
		values[i] = i
	}
	status, body := s.callRaw("POST", "/pipelines", map[string]any{"name": "big", "resource": "build",
		"steps": []map[string]any{{"id": "a", "driver": "x"}, {"id": "wide", "driver": "x", "matrix": map[string]any{"n": values}}}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "steps[1].matrix: has 257 combinations; at most 256 are accepted") {
		t.Errorf("a matrix of 257 combinations: %d %s, want 422 naming steps[1].matrix", status, body)
	}
	s.unchanged(before, "a refused matrix")
}

// TestRunTableNamesAMatrixByItsStep: in `conveyor run`, a step that needs
// every instance of a matrix step shows that step's id as its need, and
// each instance is a row of its own.
func TestRunTableNamesAMatrixByItsStep(t *testing.T) {
	r := sdk.Run{ID: "r", Status: "running", Pipeline: sdk.Pipeline{Steps: []sdk.Step{
		{ID: "test[go=1]", Driver: "d", Needs: []string{}},
		{ID: "test[go=2]", Driver: "d", Needs: []string{}},
		{ID: "publish", Driver: "d", Needs: []string{"test[go=1]", "test[go=2]"}},
		{ID: "notify", Driver: "d", Needs: []string{"test[go=2]"}},
	}}}
	for _, s := range r.Pipeline.Steps {
		st := sdk.RunStep{ID: s.ID, Driver: s.Driver, Status: "pending"}
		if strings.HasPrefix(s.ID, "test[") {
			st.Matrix = &sdk.MatrixInstance{Group: "test"}
		}
		r.Steps = append(r.Steps, st)
	}
	var out bytes.Buffer
	tw := tabwriter.NewWriter(&out, 0, 4, 2, ' ', 0)
	runTable(tw, r)
	_ = tw.Flush()
	for _, want := range []string{"test[go=1]  ", "test[go=2]  ", "└ publish   test  ", "└ notify    test[go=2]  "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the run table lacks %q:\n%s", want, out.String())
		}
	}
}
