package main

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/sdk"
)

// approvalPipeline is build → gate (approval) → deploy; deployed counts
// the deploys the driver was given.
func approvalPipeline(t *testing.T) (s *testServer, deployed *atomic.Int32) {
	s = startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build", "steps": []map[string]any{
		{"id": "build", "driver": "compiler"},
		{"id": "gate", "type": "approval"},
		{"id": "deploy", "driver": "deployer"},
	}})
	deployed = &atomic.Int32{}
	runDriver(t, s, "compiler", func(ctx context.Context, req sdk.Request) sdk.Result { return sdk.Result{Success: true} })
	runDriver(t, s, "deployer", func(ctx context.Context, req sdk.Request) sdk.Result {
		deployed.Add(1)
		return sdk.Result{Success: true, Message: "deployed"}
	})
	return s, deployed
}

// waitStep waits until the run's step has status.
func (s *testServer) waitStep(runID, step, status string) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, run := s.call("GET", "/runs/"+runID, nil)
		if code == http.StatusOK {
			if st := runStep(run, step); st != nil && st["status"] == status {
				return run
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("step %s of run %s never became %s: %v", step, runID, status, run)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestApprovalBlocksUntilApproved: the run stops at the approval step, the
// deploy is not dispatched, and an approval with a comment lets it go on;
// who approved is recorded.
func TestApprovalBlocksUntilApproved(t *testing.T) {
	s, deployed := approvalPipeline(t)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	run := s.waitStep(runID, "gate", domain.StepStatusWaiting)
	if run["status"] != "running" || runStep(run, "deploy")["status"] != "pending" || deployed.Load() != 0 {
		t.Fatalf("while waiting: run %v, deploy %v, %d deploys", run["status"], runStep(run, "deploy"), deployed.Load())
	}
	status, body := s.callRaw("POST", "/runs/"+runID+"/steps/deploy/approve", map[string]any{})
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "only a step of type approval") {
		t.Errorf("approving a driver's step: %d %s", status, body)
	}
	s.must(http.StatusOK, "POST", "/runs/"+runID+"/steps/gate/approve", map[string]any{"comment": "staging looks good"})
	run = s.waitRun(runID)
	if run["status"] != "succeeded" || deployed.Load() != 1 {
		t.Fatalf("after the approval: run %v, %d deploys", run["status"], deployed.Load())
	}
	gate := runStep(run, "gate")["result"].(map[string]any)
	if msg := gate["message"].(string); !strings.HasPrefix(msg, "approved by ") || !strings.HasSuffix(msg, ": staging looks good") {
		t.Errorf("the gate's result says %q", msg)
	}
	approved := eventsOfType(s.runEvents(runID), domain.TypeStepApproved)
	if len(approved) != 1 || approved[0]["by"] == "" || approved[0]["actor"] == nil {
		t.Errorf("approval events %v: want one, naming who", approved)
	}
	status, body = s.callRaw("POST", "/runs/"+runID+"/steps/gate/approve", nil)
	if status != http.StatusConflict {
		t.Errorf("approving again after the run ended: %d %s, want 409", status, body)
	}
}

// TestApprovalRejected: a rejection fails the run and skips the deploy.
func TestApprovalRejected(t *testing.T) {
	s, deployed := approvalPipeline(t)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	s.waitStep(runID, "gate", domain.StepStatusWaiting)
	s.must(http.StatusOK, "POST", "/runs/"+runID+"/steps/gate/reject", map[string]any{"comment": "not on a Friday"})
	run := s.waitRun(runID)
	if run["status"] != "failed" || !strings.Contains(run["message"].(string), "not on a Friday") ||
		runStep(run, "deploy")["status"] != "skipped" || deployed.Load() != 0 {
		t.Fatalf("after the rejection: run %v %q, deploy %v, %d deploys", run["status"], run["message"], runStep(run, "deploy"), deployed.Load())
	}
}
