package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

// barrier lets n reconciles through only once all n have started, so a
// step can prove that another ran at the same time. A reconcile that waits
// in vain gives up and fails its step.
type barrier struct {
	arrived sync.WaitGroup
	all     chan struct{}
}

func newBarrier(n int) *barrier {
	b := &barrier{all: make(chan struct{})}
	b.arrived.Add(n)
	go func() { b.arrived.Wait(); close(b.all) }()
	return b
}

func (b *barrier) meet(ctx context.Context) bool {
	b.arrived.Done()
	select {
	case <-b.all:
		return true
	case <-ctx.Done():
		return false
	case <-time.After(20 * time.Second):
		return false
	}
}

// TestDiamondPipelineRunsBranchesAtTheSameTime: a → b, c → d. The work of b
// and c reaches their drivers before either reports a result, d runs after
// both with the results of a, b and c, and the run succeeds.
func TestDiamondPipelineRunsBranchesAtTheSameTime(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build", "steps": []map[string]any{
		{"id": "a", "driver": "checkout"},
		{"id": "b", "driver": "unit", "needs": []string{"a"}},
		{"id": "c", "driver": "lint", "needs": []string{"a"}},
		{"id": "d", "driver": "publish", "needs": []string{"b", "c"}},
	}})
	both := newBarrier(2)
	branch := func(ctx context.Context, req sdk.Request) sdk.Result {
		if !both.meet(ctx) {
			return sdk.Result{Success: false, Message: "the other branch never started while this one ran"}
		}
		return sdk.Result{Success: true, Message: req.Step + " ok"}
	}
	seenByD := make(chan map[string]string, 1)
	runDriver(t, s, "checkout", func(ctx context.Context, req sdk.Request) sdk.Result {
		return sdk.Result{Success: true, Message: "checked out"}
	})
	runDriver(t, s, "unit", branch)
	runDriver(t, s, "lint", branch)
	runDriver(t, s, "publish", func(ctx context.Context, req sdk.Request) sdk.Result {
		seenByD <- req.Resource.Metadata
		return sdk.Result{Success: true, Message: "published"}
	})

	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	run := s.waitRun(runID)
	if run["status"] != "succeeded" {
		t.Fatalf("run %v: %v", run["status"], run["steps"])
	}
	meta := <-seenByD
	for _, driver := range []string{"checkout", "unit", "lint"} {
		if !strings.Contains(meta["driverresults."+driver], `"success":true`) {
			t.Errorf("d's payload lacks the result of %s: %v", driver, meta)
		}
	}
}

// TestFailedBranchSkipsItsDependants: b fails, so d, which needs it, is
// skipped and says why, while c, on another branch, still runs; the run
// fails because of b.
func TestFailedBranchSkipsItsDependants(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build", "steps": []map[string]any{
		{"id": "b", "driver": "unit"},
		{"id": "c", "driver": "lint", "needs": []string{}},
		{"id": "d", "driver": "publish", "needs": []string{"b", "c"}},
	}})
	runDriver(t, s, "unit", func(ctx context.Context, req sdk.Request) sdk.Result {
		return sdk.Result{Success: false, Message: "3 tests failed"}
	})
	runDriver(t, s, "lint", func(ctx context.Context, req sdk.Request) sdk.Result {
		time.Sleep(200 * time.Millisecond) // finishes after b failed
		return sdk.Result{Success: true, Message: "clean"}
	})
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	run := s.waitRun(runID)
	status := map[string]string{}
	var reason string
	for _, st := range run["steps"].([]any) {
		step := st.(map[string]any)
		status[step["id"].(string)] = step["status"].(string)
		if step["id"] == "d" {
			reason, _ = step["reason"].(string)
		}
	}
	if run["status"] != "failed" || !strings.Contains(run["message"].(string), "step b (driver unit) failed: 3 tests failed") {
		t.Errorf("run %v %q, want failed because of b", run["status"], run["message"])
	}
	if status["b"] != "failed" || status["c"] != "succeeded" || status["d"] != "skipped" || reason != "needs step b, which failed" {
		t.Errorf("steps %v, d's reason %q", status, reason)
	}
}

// TestPipelineNeedsAreChecked: a cycle or a need that names no step is a
// 422 that says where, and nothing is written.
func TestPipelineNeedsAreChecked(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	before := s.settle()
	for _, c := range []struct {
		steps []map[string]any
		want  string
	}{
		{[]map[string]any{{"id": "a", "driver": "x", "needs": []string{"b"}}, {"id": "b", "driver": "x"}}, "closes a cycle: a needs b needs a"},
		{[]map[string]any{{"id": "a", "driver": "x"}, {"id": "b", "driver": "x", "needs": []string{"nope"}}}, `names no step of this pipeline: \"nope\"`},
	} {
		status, body := s.callRaw("POST", "/pipelines", map[string]any{"name": "ci", "resource": "build", "steps": c.steps})
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), c.want) || !strings.Contains(string(body), "steps[") {
			t.Errorf("%v: %d %s, want 422 with %q at its step", c.steps, status, body, c.want)
		}
	}
	s.unchanged(before, "refused pipelines")
}
