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

// TestUIQueuedStep: a step waiting for a place in its full concurrency
// group is drawn queued in its run's graph, with its place in line and
// why it waits; its run is running.
func TestUIQueuedStep(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	// Its driver never connects: the first run's deploy holds the place.
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "deploy", "driver": "absent", "concurrency": map[string]any{"group": `"deploy"`, "limit": 1}}}})
	first := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	waitFor(t, "the first deploy dispatched", func() bool {
		_, run := s.call("GET", "/runs/"+first, nil)
		return stepOfRun(run, "deploy")["status"] == "dispatched"
	})
	queued := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-2", "abc"))["runid"].(string)
	waitFor(t, "the second deploy queued", func() bool {
		_, run := s.call("GET", "/runs/"+queued, nil)
		c, _ := stepOfRun(run, "deploy")["concurrency"].(map[string]any)
		return c["queuedPosition"] == 1.0
	})
	signIn(t, ctx, s)
	var meta, title string
	var ok bool
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs/"+queued),
		chromedp.WaitVisible(`.step-node.node-queued`, chromedp.ByQuery),
		chromedp.Text(`.step-node.node-queued .step-meta`, &meta, chromedp.ByQuery),
		chromedp.AttributeValue(`.step-node.node-queued`, "title", &title, &ok, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the queued step's node: %v", err)
	}
	if !strings.Contains(meta, "in line 1") || !strings.Contains(title, `waits for a place in concurrency group "deploy" (limit 1), position 1`) {
		t.Errorf("the queued step's node: meta %q, title %q", meta, title)
	}
}
