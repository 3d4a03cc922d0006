package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/conveyor/conveyor/sdk"
)

// count is the number of elements matching a CSS selector on the page.
func count(t *testing.T, ctx context.Context, selector string) int {
	t.Helper()
	var n int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll(`+strconv.Quote(selector)+`).length`, &n)); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUIRetryLinkTraceAndRoles: a failed run is retried from its button and
// succeeds (its step's open pane following the retry and listing each
// attempt's outcome); a link to a log line marks that line; the trace lists the
// resource change and the run's events; a viewer's page has no buttons.
func TestUIRetryLinkTraceAndRoles(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "compile", "driver": "compiler"}}})
	var attempts atomic.Int32
	runDriver(t, s, "compiler", func(ctx context.Context, req sdk.Request) sdk.Result {
		n := attempts.Add(1)
		req.Log.Printf("attempt %d, first line", n)
		req.Log.Printf("attempt %d, second line", n)
		return sdk.Result{Success: n > 1, Message: map[bool]string{true: "compiled", false: "broken"}[n > 1]}
	})
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	viewer := s.issue("dashboard", "viewer")
	signIn(t, ctx, s)

	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs/"+runID+"?line=2&step=compile"),
		chromedp.WaitVisible(`h1 .status-failed`, chromedp.ByQuery),
		chromedp.WaitVisible(`#L2.log-target`, chromedp.ByQuery),
		chromedp.WaitVisible(`//ol[@id="trace"]//summary[contains(., "caused by ResourceCreated")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//ol[@id="trace"]//summary[contains(., "RunFailed")]`, chromedp.BySearch),
	); err != nil {
		t.Fatalf("the failed run's page: %v", err)
	}
	if n := count(t, ctx, ".log-target"); n != 1 {
		t.Errorf("%d lines marked as the linked one, want 1", n)
	}
	screenshot(t, ctx, "run-failed")
	if err := chromedp.Run(ctx,
		// Both logs have ended with the run; the retry starts them again.
		chromedp.WaitVisible(`#log[data-ended] .log-line`, chromedp.ByQuery),
		chromedp.WaitVisible(`#step-log[data-ended] .log-line`, chromedp.ByQuery),
		chromedp.Click(`//button[. = "Retry"]`, chromedp.BySearch),
		chromedp.WaitVisible(`h1 .status-succeeded`, chromedp.ByQuery),
		chromedp.WaitVisible(`//pre[@id="log"]//div[contains(., "attempt 2, second line")]`, chromedp.BySearch),
		// The step's pane, open since before the retry, follows it too.
		chromedp.WaitVisible(`//pre[@id="step-log"]//div[contains(., "attempt 2, second line")]`, chromedp.BySearch),
	); err != nil {
		t.Fatalf("retry from the page: %v", err)
	}
	if run := s.must(http.StatusOK, "GET", "/runs/"+runID, nil); run["status"] != "succeeded" {
		t.Errorf("the run is %v after the retry button", run["status"])
	}
	if err := chromedp.Run(ctx, chromedp.WaitVisible(`//ol[@id="trace"]//summary[contains(., "RunSucceeded")]`, chromedp.BySearch)); err != nil {
		t.Errorf("the trace does not show the retried run's success: %v", err)
	}
	// The step's pane says what became of each attempt, not only the last.
	var first, second string
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible(`//ol[@id="step-attempt-list"]/li[@data-attempt="2"][contains(., "succeeded: compiled")]`, chromedp.BySearch),
		chromedp.Text(`#step-attempt-list li[data-attempt="1"]`, &first, chromedp.ByQuery),
		chromedp.Text(`#step-attempt-list li[data-attempt="2"]`, &second, chromedp.ByQuery),
	); err != nil {
		t.Errorf("the step's attempts: %v", err)
	}
	if !strings.HasPrefix(first, "attempt 1 (") || !strings.HasSuffix(first, "): failed: broken") || !strings.HasSuffix(second, "): succeeded: compiled") {
		t.Errorf("the step's attempts read %q and %q", first, second)
	}
	// Each line once: two attempts of two lines.
	if n := count(t, ctx, "#log .log-line"); n != 4 {
		t.Errorf("%d log lines shown, want 4 (each once)", n)
	}
	screenshot(t, ctx, "run-retried")

	// A viewer sees the failed run of another resource without buttons.
	attempts.Store(-100)
	failed := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-2", "abc"))["runid"].(string)
	signInAs(t, ctx, s, viewer)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs/"+failed),
		chromedp.WaitVisible(`h1 .status-failed`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the viewer's run page: %v", err)
	}
	if n := count(t, ctx, "main button"); n != 0 {
		t.Errorf("a viewer's run page shows %d buttons", n)
	}
	if err := chromedp.Run(ctx, chromedp.Navigate(s.at.API+"/#/maintenance")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "need an admin token")
	if n := count(t, ctx, "#job-verify, #job-rebuild"); n != 0 {
		t.Errorf("a viewer's maintenance page shows %d job buttons", n)
	}
}

// TestUIEventsAndMaintenance: the events page filters the log, follows it
// live and opens an event's JSON; verify runs from the maintenance page and
// shows its result.
func TestUIEventsAndMaintenance(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": "first", "resource": "build",
		"spec": map[string]any{"repo": "r", "ref": "a"}})
	signIn(t, ctx, s)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/events?aggregate=resource"),
		chromedp.WaitVisible(`//ol[@id="events"]//summary[contains(., "build/first")]`, chromedp.BySearch),
	); err != nil {
		t.Fatalf("the events page: %v", err)
	}
	if n := count(t, ctx, `#events li`); n != 1 {
		t.Errorf("%d events of aggregate resource shown, want 1", n)
	}
	if err := chromedp.Run(ctx, chromedp.Click("#events-live", chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": "second", "resource": "build",
		"spec": map[string]any{"repo": "r", "ref": "b"}})
	var shown string
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible(`//ol[@id="events"]//summary[contains(., "build/second")]`, chromedp.BySearch),
		chromedp.Click(`//ol[@id="events"]//summary[contains(., "build/second")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//ol[@id="events"]//li[2]//pre`, chromedp.BySearch),
		chromedp.Text(`//ol[@id="events"]//li[2]//pre`, &shown, chromedp.BySearch),
	); err != nil {
		t.Fatalf("following the events live: %v", err)
	}
	if !strings.Contains(shown, `"ResourceCreated.v1"`) || !strings.Contains(shown, `"ref": "b"`) {
		t.Errorf("the event's JSON as shown: %s", shown)
	}
	if n := count(t, ctx, `#events li`); n != 2 {
		t.Errorf("%d events after following, want 2", n)
	}
	screenshot(t, ctx, "events")

	var result string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/maintenance"),
		chromedp.Click("#job-verify", chromedp.ByID),
		chromedp.WaitVisible("#job-result pre", chromedp.ByQuery),
		chromedp.Text("#job-result pre", &result, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("verify from the maintenance page: %v", err)
	}
	if !strings.Contains(result, `"events"`) || !strings.Contains(result, `"keys"`) {
		t.Errorf("verify's result as shown: %q", result)
	}
	screenshot(t, ctx, "maintenance")
}
