package main

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestUIWalkthroughRun: the README's Go drivers' walk-through as a person
// follows it (apply examples/compile-upload/all.yaml, the two example
// drivers), then its run in the browser: both steps succeeded in the graph,
// the upload step's pane open with its own log, the run's log holding both
// steps' lines. With CONVEYOR_UPDATE_DOCS=1 the page becomes
// docs/ui-run.png, the README's screenshot.
func TestUIWalkthroughRun(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	server := &process{at: s.at, token: s.token}
	if code, out, errOut := cliRun(t, server, "", "apply", "-f", "../../examples/compile-upload/all.yaml"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	for _, name := range []string{"compiler", "uploader"} {
		startDriverWith(t, name, driverNATS(t, s.at, name))
	}
	_, page := s.call("GET", "/runs?resource=build/app-1", nil)
	items, _ := page["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("the walk-through's runs: %v", page)
	}
	runID := items[0].(map[string]any)["id"].(string)
	if run := s.waitRun(runID); run["status"] != "succeeded" {
		t.Fatalf("the walk-through's run: %v", run)
	}
	signIn(t, ctx, s)
	var pane, log string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs/"+runID+"?step=upload"),
		chromedp.WaitVisible(`h1 .status-succeeded`, chromedp.ByQuery),
		chromedp.WaitVisible(`#step-log[data-ended] .log-line`, chromedp.ByQuery),
		chromedp.WaitVisible(`#log[data-ended] .log-line`, chromedp.ByQuery),
		chromedp.WaitVisible(`//ol[@id="trace"]//summary[contains(., "RunSucceeded")]`, chromedp.BySearch),
		chromedp.Text(`#step-pane`, &pane, chromedp.ByQuery),
		chromedp.Text(`#log`, &log, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the walk-through's run page: %v", err)
	}
	if n := count(t, ctx, `#graph .step-node[data-status="succeeded"]`); n < 2 {
		t.Errorf("%d steps drawn as succeeded, want 2", n)
	}
	if !strings.Contains(pane, "Step upload") || !strings.Contains(pane, "uploader") {
		t.Errorf("the upload step's pane: %q", pane)
	}
	for _, step := range []string{"compile#1", "upload#1"} {
		if !strings.Contains(log, step) {
			t.Errorf("the run's log has no line of %s:\n%s", step, log)
		}
	}
	screenshot(t, ctx, "walkthrough-run")
	if os.Getenv("CONVEYOR_UPDATE_DOCS") == "1" {
		var png []byte
		if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 90)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../../docs/ui-run.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("wrote docs/ui-run.png")
	}
	if status, _ := s.call("GET", "/runs/"+runID, nil); status != http.StatusOK {
		t.Errorf("GET the run after: %d", status)
	}
}
