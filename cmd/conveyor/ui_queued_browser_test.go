package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestUIQueuedRun: a run waiting in a full concurrency group says on its
// page which group it waits in and its place, and can be cancelled there
// (which takes it out of the queue).
func TestUIQueuedRun(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	// Its driver never connects: the first run holds the group's one place.
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"concurrency": map[string]any{"group": `"deploy"`, "limit": 1},
		"steps":       []map[string]any{{"id": "a", "driver": "absent"}}})
	// The first run must hold the place before the second is made: two runs
	// made at once enter the group in the order the engine reaches them.
	first := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	s.waitRunStatus(first, "running")
	queued := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-2", "abc"))["runid"].(string)
	s.waitRunStatus(queued, "queued")
	signIn(t, ctx, s)
	var note string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs/"+queued),
		chromedp.WaitVisible(`.queued-note`, chromedp.ByQuery),
		chromedp.Text(`.queued-note`, &note, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the queued run's page: %v", err)
	}
	if !strings.Contains(note, "concurrency group deploy") || !strings.Contains(note, "position 1") {
		t.Errorf("the queued run's note: %q", note)
	}
	if err := chromedp.Run(ctx,
		chromedp.Click(`//button[text()="Cancel"]`, chromedp.BySearch),
		chromedp.WaitVisible(`h1 .status-cancelled`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("cancel the queued run from its page: %v", err)
	}
	if run := s.must(http.StatusOK, "GET", "/runs/"+queued, nil); run["status"] != "cancelled" {
		t.Errorf("the queued run after Cancel: %v", run["status"])
	}
}

// waitRunStatus waits until the run has status (a run is recorded a
// moment after its resource: 404 until then).
func (s *testServer) waitRunStatus(runID, status string) {
	t := s.t
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, run := s.call("GET", "/runs/"+runID, nil)
		if run["status"] == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s never became %s: %v", runID, status, run)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
