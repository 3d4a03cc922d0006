package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/sdk"
)

// TestCancelReachesTheDriver: cancelling a run cancels the context of the
// reconcile working on it, with sdk.ErrWorkStopped as the cause; what the
// driver logs after that is not stored; its late result is recorded as
// ignored and the run stays cancelled. Another run of the same driver,
// running beside it, goes on.
func TestCancelReachesTheDriver(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "work", "driver": "worker"}}})
	causes := make(chan error, 2)
	release := make(chan struct{})
	var once sync.Once
	driver := sdk.NewDriver("worker", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		req.Log.Printf("working on %s", req.Resource.Name)
		select {
		case <-ctx.Done():
			causes <- context.Cause(ctx)
			req.Log.Printf("still writing after the cancel")
			return sdk.Result{Success: false, Message: "stopped"}
		case <-release:
			return sdk.Result{Success: true, Message: "done"}
		}
	})
	m, err := sdk.NewManager(driver, sdk.WithNATSURL(driverNATS(t, s.at, "worker")), sdk.WithConcurrency(2))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = m.Run(ctx) }()
	t.Cleanup(func() { once.Do(func() { close(release) }); cancel(); <-stopped })

	doomed := s.must(http.StatusCreated, "POST", "/resources", buildResource("doomed", "abc"))["runid"].(string)
	kept := s.must(http.StatusCreated, "POST", "/resources", buildResource("kept", "abc"))["runid"].(string)
	for _, id := range []string{doomed, kept} {
		waitLog(t, s, id, "working on")
	}
	s.must(http.StatusOK, "POST", "/runs/"+doomed+"/cancel", nil)
	select {
	case cause := <-causes:
		if !errors.Is(cause, sdk.ErrWorkStopped) || !strings.Contains(cause.Error(), "the run was cancelled") {
			t.Errorf("the reconcile's context ended with %v, want sdk.ErrWorkStopped: the run was cancelled", cause)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the reconcile of the cancelled run was not cancelled within 20s")
	}
	waitLog(t, s, doomed, "stopped: the run was cancelled")
	waitEvent(t, s, doomed, domain.TypeDriverResultRecorded)
	logs := joinedLogs(s, doomed)
	if strings.Contains(logs, "still writing after the cancel") {
		t.Errorf("a line logged after the cancel was stored:\n%s", logs)
	}
	results := eventsOfType(s.runEvents(doomed), domain.TypeDriverResultRecorded)
	if len(results) != 1 || !strings.Contains(results[0]["ignored"].(string), "the run has ended (cancelled)") {
		t.Errorf("the late result: %v, want one, recorded as ignored", results)
	}
	if run := s.must(http.StatusOK, "GET", "/runs/"+doomed, nil); run["status"] != "cancelled" {
		t.Errorf("cancelled run is %v", run["status"])
	}
	once.Do(func() { close(release) })
	if run := s.waitRun(kept); run["status"] != "succeeded" {
		t.Errorf("the run beside it ended %v, want succeeded", run["status"])
	}
	select {
	case cause := <-causes:
		t.Errorf("a second reconcile was cancelled: %v", cause)
	default:
	}
}

func waitLog(t *testing.T, s *testServer, runID, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(joinedLogs(s, runID), want) {
		if time.Now().After(deadline) {
			t.Fatalf("run %s never logged %q; its log:\n%s", runID, want, joinedLogs(s, runID))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitEvent(t *testing.T, s *testServer, runID, typ string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(eventsOfType(s.runEvents(runID), typ)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("run %s has no %s event", runID, typ)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
