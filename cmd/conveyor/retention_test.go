package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// With --keep-ended-runs 2, the read models list the two runs that ended
// last; an older run still answers by id — the run, its logs, its trace —
// read from the log, and a retry of it works and brings it back: it ends
// again, as the latest, and the oldest kept one goes.
func TestEndedRunsBeyondTheRetentionAreReadFromTheLog(t *testing.T) {
	s := startServer(t, func(c *serverConfig) { openNATS(c); c.KeepEndedRuns = 2 })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	compiler := &plainDriver{name: "compiler", succeed: false}
	compiler.run(ctx, t, s.at.NATS)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	var runs []string
	for i := range 4 {
		id := s.must(http.StatusCreated, "POST", "/resources", buildResource(fmt.Sprintf("app-%d", i), "abc"))["runid"].(string)
		if run := s.waitRun(id); run["status"] != "failed" {
			t.Fatalf("run %d ended %v, want failed", i, run["status"])
		}
		runs = append(runs, id)
	}
	// A run's end is read from the log as soon as it is there; the list
	// follows once the read models reach it.
	s.waitListed(runs[3], runs[2])
	if dump := s.dump(); strings.Contains(dump, runs[0]) || strings.Contains(dump, runs[1]) {
		t.Errorf("the read models still hold a run let go of:\n%s", dump)
	}
	oldest := s.must(http.StatusOK, "GET", "/runs/"+runs[0], nil)
	if oldest["id"] != runs[0] || oldest["status"] != "failed" {
		t.Errorf("the oldest run, read from the log: %v", oldest)
	}
	s.must(http.StatusOK, "GET", "/runs/"+runs[0]+"/logs", nil)
	if trace := s.must(http.StatusOK, "GET", "/runs/"+runs[0]+"/trace", nil); trace["cause"] == nil {
		t.Errorf("the oldest run's trace has no cause: %v", trace)
	}
	s.must(http.StatusNotFound, "GET", "/runs/6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a11", nil)

	s.must(http.StatusOK, "POST", "/runs/"+runs[0]+"/retry", nil)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		run := s.must(http.StatusOK, "GET", "/runs/"+runs[0], nil)
		step := run["steps"].([]any)[0].(map[string]any)
		if step["attempt"] == float64(2) && run["status"] == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retried run is %v, its step at attempt %v, after 10s; want failed at attempt 2", run["status"], step["attempt"])
		}
	}
	s.waitListed(runs[3], runs[0])
}

// waitListed waits until GET /runs lists want, in that order.
func (s *testServer) waitListed(want ...string) {
	s.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		listed := runIDs(s.must(http.StatusOK, "GET", "/runs", nil))
		if slices.Equal(listed, want) {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("runs listed %v after 10s, want %v", listed, want)
		}
	}
}
