package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/conveyor/conveyor/sdk"
	"github.com/google/go-cmp/cmp"
)

// stepLogLine is what TestUIStepLogSearchAndTimestamps reads of a line in
// the step's pane.
type stepLogLine struct {
	No       string `json:"no"`
	Text     string `json:"text"`
	Clock    string `json:"clock"`
	Datetime string `json:"datetime"`
}

// readStepLog is every line drawn in the step's pane.
const readStepLog = `[...document.querySelectorAll("#step-log .log-line")].map(l => {
	const t = l.querySelector("time.log-time");
	return { no: l.querySelector(".log-no").textContent, text: l.textContent,
		clock: t ? t.textContent : "", datetime: t ? t.getAttribute("datetime") : "" };
})`

// TestUIStepLogSearchAndTimestamps: a step's pane hides its lines' times
// until asked, then shows each line's time; its search lets through only
// the lines that contain the text in any case, the lines that arrive
// while it is set too, and counts them; cleared, it shows every line
// again. The choice of times outlives a reload.
func TestUIStepLogSearchAndTimestamps(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "build", "driver": "worker"}}})
	// Ten lines, three of them warnings (one coloured, one in capitals);
	// then, once the page searches, two more, one of them a warning and
	// the other markup that must stay text.
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	runDriver(t, s, "worker", func(ctx context.Context, req sdk.Request) sdk.Result {
		for i := 1; i <= 10; i++ {
			switch i {
			case 3:
				req.Log.Printf("line %d: warning: disk at 91%%", i)
			case 6:
				req.Log.Printf("line %d: \x1b[33mWarn\x1b[0ming: slow mirror", i)
			case 9:
				req.Log.Printf("line %d: WARNING: retrying fetch", i)
			default:
				req.Log.Printf("line %d: ok", i)
			}
		}
		select {
		case <-release:
		case <-ctx.Done():
			return sdk.Result{Success: false, Message: "stopped"}
		}
		req.Log.Printf("line 11: late warning")
		req.Log.Printf("line 12: <b>fine</b>")
		return sdk.Result{Success: true, Message: "built"}
	})
	start := time.Now()
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	signIn(t, ctx, s)
	page := s.at.API + "/#/runs/" + runID + "?step=build"
	if err := chromedp.Run(ctx,
		chromedp.Navigate(page),
		chromedp.Poll(`document.querySelectorAll("#step-log .log-line").length === 10`, nil),
	); err != nil {
		t.Fatalf("the step's pane with its first ten lines: %v", err)
	}
	var lines []stepLogLine
	evaluate(t, ctx, readStepLog, &lines)
	var timesOn bool
	evaluate(t, ctx, `document.getElementById("step-times").checked`, &timesOn)
	if timesOn || count(t, ctx, "#step-log time") != 0 {
		t.Errorf("the step's log shows times before they are asked for (checkbox checked: %v)", timesOn)
	}
	if want := "1worker line 1: ok"; len(lines) == 0 || lines[0].Text != want {
		t.Errorf("the first line without times: %+v, want %q", lines, want)
	}

	// Times on: each line shows its time of day, the time it was written.
	if err := chromedp.Run(ctx,
		chromedp.Click(`//label[contains(., "Timestamps")]`, chromedp.BySearch),
		chromedp.Poll(`document.querySelectorAll("#step-log .log-line time.log-time").length === 10`, nil),
	); err != nil {
		t.Fatalf("turning times on: %v", err)
	}
	evaluate(t, ctx, readStepLog, &lines)
	for _, l := range lines {
		at, err := time.Parse(time.RFC3339Nano, l.Datetime)
		if err != nil || at.Before(start.Add(-time.Second)) || at.After(time.Now()) {
			t.Errorf("line %s's time %q: %v, want one since the run started", l.No, l.Datetime, err)
			continue
		}
		if _, err := time.Parse("15:04:05.000", l.Clock); err != nil || l.Clock != at.Local().Format("15:04:05.000") {
			t.Errorf("line %s shows the time %q, want %q (%v)", l.No, l.Clock, at.Local().Format("15:04:05.000"), err)
		}
		if !strings.HasPrefix(l.Text, l.No+l.Clock+"worker line "+l.No+":") {
			t.Errorf("line %s with its time reads %q", l.No, l.Text)
		}
	}
	screenshot(t, ctx, "step-log-times")

	// A search lets through the lines that contain it, in any case and
	// through colours, and counts them.
	visible := func(want []string, found string) {
		t.Helper()
		if err := chromedp.Run(ctx, chromedp.Poll(fmt.Sprintf(
			`document.getElementById("step-found").textContent === %q && document.querySelectorAll("#step-log .log-line").length === %d`,
			found, len(want)), nil)); err != nil {
			var got []stepLogLine
			var text string
			evaluate(t, ctx, readStepLog, &got)
			evaluate(t, ctx, `document.getElementById("step-found").textContent`, &text)
			t.Fatalf("waiting for %d lines and %q: got %q and %+v", len(want), found, text, got)
		}
		var got []stepLogLine
		evaluate(t, ctx, readStepLog, &got)
		numbers := make([]string, len(got))
		for i, l := range got {
			numbers[i] = l.No
		}
		if diff := cmp.Diff(want, numbers); diff != "" {
			t.Errorf("the lines shown for the count %q (-want +got):\n%s", found, diff)
		}
	}
	if err := chromedp.Run(ctx, chromedp.SendKeys("#step-find", "warning", chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	visible([]string{"3", "6", "9"}, "3 of 10 lines")
	screenshot(t, ctx, "step-log-search")

	// Lines that arrive while the search is set pass through it too.
	once.Do(func() { close(release) })
	if err := chromedp.Run(ctx, chromedp.WaitReady(`#step-log[data-ended]`, chromedp.ByQuery)); err != nil {
		t.Fatalf("the step's log did not end: %v", err)
	}
	visible([]string{"3", "6", "9", "11"}, "4 of 12 lines")

	// Cleared, the search shows every line again; the markup in a line is
	// its text.
	if err := chromedp.Run(ctx, chromedp.SendKeys("#step-find", strings.Repeat(kb.Backspace, len("warning")), chromedp.ByID)); err != nil {
		t.Fatal(err)
	}
	visible([]string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}, "")
	evaluate(t, ctx, readStepLog, &lines)
	if last := lines[len(lines)-1]; !strings.HasSuffix(last.Text, "line 12: <b>fine</b>") || count(t, ctx, "#step-log b") != 0 {
		t.Errorf("the line with markup reads %q (its markup drawn: %v)", last.Text, count(t, ctx, "#step-log b") != 0)
	}

	// The times stay on after a reload.
	if err := chromedp.Run(ctx,
		chromedp.Reload(),
		chromedp.Poll(`document.getElementById("step-times")?.checked &&
			document.querySelectorAll("#step-log .log-line time.log-time").length === 12`, nil),
	); err != nil {
		t.Fatalf("times after a reload: %v", err)
	}
}
