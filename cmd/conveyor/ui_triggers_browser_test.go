package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestUITriggers: a run a delivery started records the delivery's event,
// commit and ref, and the runs page titles it so; the triggers page lists
// each trigger with the address its git host sends deliveries to, its
// latest deliveries with their answers (a ping's too) and the runs they
// started, and tries a trigger on a
// pasted payload, saying what it would write and writing nothing.
func TestUITriggers(t *testing.T) {
	ctx := browser(t)
	s := startTriggerServer(t)
	status, answer := s.deliver("github-app", githubPush, "X-GitHub-Event", "push", "X-GitHub-Delivery", "ui-1",
		"X-Hub-Signature-256", "sha256="+signature(hookSecret, githubPush))
	runID, _ := answer["runid"].(string)
	if status != http.StatusCreated || runID == "" {
		t.Fatalf("delivery: %d %v", status, answer)
	}
	if status, _ := s.deliver("github-app", githubPing, "X-GitHub-Event", "ping", "X-GitHub-Delivery", "ui-ping",
		"X-Hub-Signature-256", "sha256="+signature(hookSecret, githubPing)); status != http.StatusOK {
		t.Fatalf("ping: %d", status)
	}
	s.waitRunStatus(runID, "running")
	// The run records the delivery behind it.
	run := s.must(http.StatusOK, "GET", "/runs/"+runID, nil)
	if o, _ := run["origin"].(map[string]any); o["event"] != "push" || o["commit"] != "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5" ||
		o["ref"] != "refs/heads/main" || o["delivery"] != "ui-1" {
		t.Errorf("the run's origin: %v", run["origin"])
	}
	signIn(t, ctx, s)
	var runTitle string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs"),
		chromedp.WaitVisible(`.run-origin`, chromedp.ByQuery),
		chromedp.Text(`.run-title`, &runTitle, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the runs page: %v", err)
	}
	if want := "build/gh-push-1a2b3c4 created by trigger github-app push 1a2b3c4 on main"; runTitle != want {
		t.Errorf("the run's title %q, want %q", runTitle, want)
	}
	var row string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/triggers"),
		chromedp.WaitVisible(`tr[data-trigger="github-app"] .trigger-deliveries a`, chromedp.ByQuery),
		chromedp.Text(`tr[data-trigger="github-app"]`, &row, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the triggers page: %v", err)
	}
	for _, want := range []string{s.at.API + "/hooks/github-app", "push, tag, pull_request, ping", "201 " + runID[:8] + " push 1a2b3c4 build/gh-push-1a2b3c4",
		"200 ping pong"} {
		if !strings.Contains(row, want) {
			t.Errorf("the trigger's row %q lacks %q", row, want)
		}
	}
	before := s.lastSeq()
	var said string
	if err := chromedp.Run(ctx,
		chromedp.Click(`button[data-try="github-app"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#try-payload`, chromedp.ByQuery),
		chromedp.SetValue(`#try-payload`, githubPush, chromedp.ByQuery),
		chromedp.SendKeys(`#try-event`, "push", chromedp.ByQuery),
		chromedp.Click(`#try-run`, chromedp.ByQuery),
		chromedp.WaitVisible(`.try-outcome`, chromedp.ByQuery),
		chromedp.Text(`.try-outcome`, &said, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("trying the trigger: %v", err)
	}
	if want := "would fire (event push): write build/gh-push-1a2b3c4, which starts a run of ci"; said != want {
		t.Errorf("the try says %q, want %q", said, want)
	}
	if after := s.lastSeq(); after != before {
		t.Errorf("trying from the page wrote to the log: position %d → %d", before, after)
	}
}

// TestUIRunShowsAStatusNotReported: the page of a run whose commit status
// the git host refused says so, with the status, the host's answer and
// the attempts.
func TestUIRunShowsAStatusNotReported(t *testing.T) {
	ctx := browser(t)
	host := newStatusHost(t)
	host.refuse = true
	s := startTriggerServer(t)
	s.must(http.StatusOK, "PUT", "/secrets/gh-status", map[string]any{"value": "t0ken"})
	doc := map[string]any{"report": map[string]any{"kind": "github", "baseURL": host.srv.URL, "token": "gh-status",
		"repository": "body.repository.full_name", "sha": "body.after"}}
	for k, v := range githubTriggerDoc {
		doc[k] = v
	}
	s.must(http.StatusOK, "PUT", "/triggers/github-app", doc)
	waitFor(t, "the reporter's consumer", func() bool { return slices.Contains(s.consumerNames("CONVEYOR_EVENTS"), reporterConsumer) })
	status, answer := s.deliver("github-app", githubPush, "X-GitHub-Event", "push", "X-GitHub-Delivery", "ui-report",
		"X-Hub-Signature-256", "sha256="+signature(hookSecret, githubPush))
	runID, _ := answer["runid"].(string)
	if status != http.StatusCreated || runID == "" {
		t.Fatalf("delivery: %d %v", status, answer)
	}
	waitFor(t, "the pending status given up", func() bool { return len(s.statusReports(runID)) == 1 })
	signIn(t, ctx, s)
	var notice string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs/"+runID),
		chromedp.WaitVisible(`.report-failed`, chromedp.ByQuery),
		chromedp.Text(`.report-failed`, &notice, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the run's page: %v", err)
	}
	if !strings.HasPrefix(notice, "Commit status 'pending' could not be reported to the git host: ") || !strings.Contains(notice, "403") ||
		!strings.HasSuffix(notice, "(1 attempt)") || strings.Contains(notice, "t0ken") {
		t.Errorf("the run's notice: %q", notice)
	}
}
