package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/conveyor/conveyor/sdk"
)

// linkedLine is what TestUIStepLogLineLink reads of the page once it
// opened a link to a step's line.
type linkedLine struct {
	Step     string   `json:"step"`     // the step the pane shows
	Attempt  string   `json:"attempt"`  // the attempt button pressed
	Marked   []string `json:"marked"`   // the numbers of the marked lines in the pane
	InView   bool     `json:"inView"`   // the marked line is inside the pane's log and the window
	RunMarks int      `json:"runMarks"` // lines marked in the run's log
	Search   string   `json:"search"`   // the pane's search
}

// readLinkedLine reads a linkedLine.
const readLinkedLine = `(() => {
	const pre = document.getElementById("step-log"), pane = document.getElementById("step-pane");
	const marked = pre ? [...pre.querySelectorAll(".log-target")] : [];
	let inView = false;
	if (marked.length === 1 && !pane.hidden) {
		const r = marked[0].getBoundingClientRect(), p = pre.getBoundingClientRect();
		inView = r.height > 0 && r.top >= p.top && r.bottom <= p.bottom && r.top >= 0 && r.bottom <= innerHeight;
	}
	const pressed = document.querySelector('#attempts button[aria-pressed="true"]');
	return { step: pane && !pane.hidden ? (pane.querySelector("h2 .mono") || {}).textContent || "" : "",
		attempt: pressed ? pressed.dataset.attempt : "",
		marked: marked.map(l => l.dataset.line), inView,
		runMarks: document.querySelectorAll("#log .log-target").length,
		search: (document.getElementById("step-find") || {}).value || "" };
})()`

// TestUIStepLogLineLink: each line number in a step's pane is a link to
// that line of that step (and attempt, when one is picked); a click puts
// the link in the address, and opening the link (a fresh page or a change
// of the address) opens the step's pane with the line marked and in view,
// a line far down a long log included (drawn only once it is near the
// view). A matrix instance's id, with its brackets, equals signs, comma
// and escaped space, goes through the link and back.
func TestUIStepLogLineLink(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{
			{"id": "build", "driver": "worker"},
			{"id": "test", "driver": "worker", "matrix": map[string]any{"os": []any{"mac os"}, "arch": []any{"arm64"}}},
		}})
	const buildLines, testLines = 1000, 30
	runDriver(t, s, "worker", func(ctx context.Context, req sdk.Request) sdk.Result {
		n := testLines
		if req.Step == "build" {
			n = buildLines
		}
		// Every third line wraps, so a chunk's height estimated before
		// it is drawn is wrong.
		for i := 1; i <= n; i++ {
			req.Log.Printf("%s says line %d%s", req.Step, i, strings.Repeat(" and more", 40*(i%3/2)))
		}
		return sdk.Result{Success: true, Message: "done"}
	})
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	run := s.waitRun(runID)
	if run["status"] != "succeeded" {
		t.Fatalf("the run is %v, want succeeded", run["status"])
	}
	instance := ""
	for _, st := range run["steps"].([]any) {
		if id := st.(map[string]any)["id"].(string); strings.HasPrefix(id, "test[") {
			instance = id
		}
	}
	for _, part := range []string{"[", "=", ",", "%20"} {
		if !strings.Contains(instance, part) {
			t.Fatalf("the matrix instance's id %q lacks %q", instance, part)
		}
	}
	signIn(t, ctx, s)

	// opened waits for the pane of step to show the line numbered no,
	// marked and in view, and nothing marked in the run's log.
	opened := func(how, step, attempt string, no int) {
		t.Helper()
		cond := fmt.Sprintf(`(() => { const l = %s; return l.step === %q && l.attempt === %q && l.marked.length === 1 && l.marked[0] === %q && l.inView && l.runMarks === 0 && l.search === ""; })()`,
			readLinkedLine, step, attempt, strconv.Itoa(no))
		if err := chromedp.Run(ctx, chromedp.Poll(cond, nil)); err != nil {
			var got linkedLine
			evaluate(t, ctx, readLinkedLine, &got)
			screenshot(t, ctx, "step-log-link-failed")
			t.Fatalf("%s: want the pane of %s (attempt %q) with line %d marked and in view, got %+v: %v", how, step, attempt, no, got, err)
		}
	}
	// lineLink draws line no of the step's log (scrolling its chunk into
	// view), clicks its number and returns the link, which the address
	// then holds: the click marks the line in place, without routing to
	// the page again (the pane's log is the same element).
	lineLink := func(no int) string {
		t.Helper()
		number := fmt.Sprintf(`#step-log .log-line[data-line="%d"] a.log-no`, no)
		var href, hash string
		var ok, samePane bool
		if err := chromedp.Run(ctx,
			// Until the number is drawn and stays in view: its chunk's
			// height is estimated until drawn, and drawing it and its
			// neighbours moves it. The scroll is the reader's (a wheel
			// first), so the log stops following its newest line.
			chromedp.Poll(fmt.Sprintf(`(() => {
				const pre = document.getElementById("step-log"), a = document.querySelector(%q);
				pre.dispatchEvent(new WheelEvent("wheel"));
				if (!a) {
					const c = pre.children[Math.floor((%d - 1) / 200)];
					if (c) c.scrollIntoView({ block: "start" });
					return false;
				}
				const r = a.getBoundingClientRect(), p = pre.getBoundingClientRect();
				if (r.top >= p.top && r.bottom <= p.bottom && r.top >= 0 && r.bottom <= innerHeight) return true;
				a.scrollIntoView({ block: "center" });
				return false;
			})()`, number, no), nil, chromedp.WithPollingTimeout(20*time.Second)),
			chromedp.AttributeValue(number, "href", &href, &ok, chromedp.ByQuery),
			chromedp.Evaluate(`window.paneBeforeClick = document.getElementById("step-log"); true`, nil),
			chromedp.Click(number, chromedp.ByQuery),
			chromedp.Poll(fmt.Sprintf(`document.querySelector('#step-log .log-target[data-line="%d"]') !== null`, no), nil),
			chromedp.Evaluate(`location.hash`, &hash),
			chromedp.Evaluate(`document.getElementById("step-log") === window.paneBeforeClick`, &samePane),
		); err != nil {
			t.Fatalf("clicking line %d's number: %v", no, err)
		}
		if hash != href {
			t.Errorf("after a click on line %d's number the address is %q, want its link %q", no, hash, href)
		}
		if !samePane {
			t.Errorf("a click on line %d's number drew the page again instead of marking the line in place", no)
		}
		if n := count(t, ctx, "#step-log .log-target"); n != 1 {
			t.Errorf("%d lines marked after a click on line %d's number, want 1", n, no)
		}
		return href
	}

	// A line far down the build step's log: its chunk is drawn only near
	// the view, so the link must draw it.
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs/"+runID+"?step=build"),
		chromedp.Poll(fmt.Sprintf(`document.querySelector("#step-log[data-ended]")?.dataset.lines === "%d"`, buildLines), nil),
	); err != nil {
		t.Fatalf("the build step's pane with its %d lines: %v", buildLines, err)
	}
	if n := count(t, ctx, `#step-log .log-line[data-line="750"]`); n != 0 {
		t.Fatalf("line 750 is drawn before it is scrolled to (%d elements): the test would not see the link draw it", n)
	}
	href := lineLink(750)
	if want := "#/runs/" + runID + "?step=build&stepline=750"; href != want {
		t.Errorf("line 750's link is %q, want %q", href, want)
	}
	if err := chromedp.Run(ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(s.at.API+"/"+href)); err != nil {
		t.Fatal(err)
	}
	opened("a fresh page at "+href, "build", "0", 750)
	screenshot(t, ctx, "step-log-link")

	// The matrix instance, through a change of the address (no new page),
	// with a search set beforehand: the page opened by the link starts
	// with none, so the line is shown.
	if err := chromedp.Run(ctx, chromedp.SendKeys("#step-find", "nothing like it", chromedp.ByID),
		chromedp.Poll(`document.getElementById("step-found").textContent === "0 of 1000 lines"`, nil)); err != nil {
		t.Fatalf("searching the build step's log: %v", err)
	}
	escaped := strings.NewReplacer("%", "%25", "[", "%5B", "]", "%5D", "=", "%3D", ",", "%2C").Replace(instance)
	matrixLink := "#/runs/" + runID + "?step=" + escaped + "&stepline=12"
	if err := chromedp.Run(ctx, chromedp.Evaluate(`location.hash = `+strconv.Quote(matrixLink), nil)); err != nil {
		t.Fatal(err)
	}
	opened("the address changed to "+matrixLink, instance, "0", 12)

	// The link drawn for that line reads the same, and gives the id back.
	if got := lineLink(12); got != matrixLink {
		t.Errorf("line 12 of %s links to %q, want %q", instance, got, matrixLink)
	}
	q, err := url.ParseQuery(strings.SplitN(matrixLink, "?", 2)[1])
	if err != nil || q.Get("step") != instance {
		t.Errorf("the link's step reads back as %q (%v), want %q", q.Get("step"), err, instance)
	}

	// An attempt picked is in the link (its lines are numbered apart), and
	// the page opened by it shows that attempt.
	if err := chromedp.Run(ctx,
		chromedp.Click(`#attempts button[data-attempt="1"]`, chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`document.querySelector("#step-log[data-ended]")?.dataset.lines === "%d"`, testLines), nil),
	); err != nil {
		t.Fatalf("picking attempt 1: %v", err)
	}
	attemptLink := lineLink(3)
	if want := "#/runs/" + runID + "?step=" + escaped + "&attempt=1&stepline=3"; attemptLink != want {
		t.Errorf("line 3 of attempt 1 links to %q, want %q", attemptLink, want)
	}
	if err := chromedp.Run(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	opened("a reload of "+attemptLink, instance, "1", 3)
}
