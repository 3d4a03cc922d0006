package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/conveyor/conveyor/sdk"
	"github.com/google/go-cmp/cmp"
)

// evaluate runs a script on the page into out.
func evaluate(t *testing.T, ctx context.Context, script string, out any) {
	t.Helper()
	if err := chromedp.Run(ctx, chromedp.Evaluate(script, out)); err != nil {
		t.Fatalf("%s: %v", script, err)
	}
}

// TestUIRunGraph: a diamond pipeline whose one branch fails is drawn as a
// graph: a column per level, an edge per need, each node coloured and
// marked by its status, following the run live from running to its end;
// selecting the failed step shows its message and its own log.
func TestUIRunGraph(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "a", "driver": "worker"},
			{"id": "b", "driver": "worker", "needs": []string{"a"}}, {"id": "c", "driver": "worker", "needs": []string{"a"}},
			{"id": "d", "driver": "worker", "needs": []string{"b", "c"}}}})
	// a runs until the page has shown it running; b fails once c has
	// succeeded, so that the run's end finds nothing under way.
	release, cDone := make(chan struct{}), make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	runDriver(t, s, "worker", func(ctx context.Context, req sdk.Request) sdk.Result {
		req.Log.Printf("step %s working", req.Step)
		switch req.Step {
		case "a":
			<-release
		case "b":
			select {
			case <-cDone:
			case <-time.After(5 * time.Second):
			}
			time.Sleep(200 * time.Millisecond) // c's result is recorded first
			return sdk.Result{Success: false, Message: "b broke"}
		case "c":
			defer close(cDone)
		}
		return sdk.Result{Success: true, Message: req.Step + " done"}
	}, sdk.WithConcurrency(2))
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	signIn(t, ctx, s)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs/"+runID),
		chromedp.WaitVisible(`#graph .step-node[data-step="a"][data-status="running"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#graph .step-node[data-step="d"][data-status="pending"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the running run's graph: %v", err)
	}
	screenshot(t, ctx, "run-graph-running")
	once.Do(func() { close(release) })
	if run := s.waitRun(runID); run["status"] != "failed" {
		t.Fatalf("the run: %v", run)
	}
	// The page follows the run to its end without a reload.
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible(`h1 .status-failed`, chromedp.ByQuery),
		chromedp.WaitVisible(`#graph .step-node[data-step="d"][data-status="skipped"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#graph path.edge[data-from="c"][data-to="d"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the run's graph: %v", err)
	}
	var nodes map[string]map[string]string
	evaluate(t, ctx, `Object.fromEntries([...document.querySelectorAll("#graph .step-node")].map(n => [n.dataset.step, {
		level: n.closest(".level").dataset.level, status: n.dataset.status,
		colour: getComputedStyle(n).borderLeftColor, icon: n.querySelector(".step-icon").textContent}]))`, &nodes)
	level, statuses := map[string]string{}, map[string]string{}
	for id, n := range nodes {
		level[id], statuses[id] = n["level"], n["status"]
	}
	if diff := cmp.Diff(map[string]string{"a": "0", "b": "1", "c": "1", "d": "2"}, level); diff != "" {
		t.Errorf("levels of the steps (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"a": "succeeded", "b": "failed", "c": "succeeded", "d": "skipped"}, statuses); diff != "" {
		t.Errorf("statuses of the steps (-want +got):\n%s", diff)
	}
	if nodes["a"]["colour"] != nodes["c"]["colour"] || nodes["a"]["icon"] != nodes["c"]["icon"] {
		t.Errorf("two succeeded steps drawn differently: %v, %v", nodes["a"], nodes["c"])
	}
	for _, pair := range [][2]string{{"a", "b"}, {"b", "d"}, {"a", "d"}} {
		x, y := nodes[pair[0]], nodes[pair[1]]
		if x["colour"] == y["colour"] || x["icon"] == y["icon"] {
			t.Errorf("steps %s (%s) and %s (%s) drawn alike: %v, %v", pair[0], x["status"], pair[1], y["status"], x, y)
		}
	}
	var edges []string
	evaluate(t, ctx, `[...document.querySelectorAll("#graph path.edge")].map(p => p.dataset.from + ">" + p.dataset.to).sort()`, &edges)
	if diff := cmp.Diff([]string{"a>b", "a>c", "b>d", "c>d"}, edges); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
	// Every status a step is shown in has a colour of its own.
	var colours map[string]string
	evaluate(t, ctx, `Object.fromEntries(["waiting", "queued", "pending", "running", "succeeded", "failed", "cancelled", "skipped"].map(st => {
		const n = document.createElement("a"); n.className = "step-node node-" + st; document.getElementById("graph").append(n);
		const c = getComputedStyle(n).borderLeftColor; n.remove(); return [st, c]; }))`, &colours)
	seen := map[string]string{}
	for st, c := range colours {
		if other, ok := seen[c]; ok {
			t.Errorf("statuses %s and %s share the colour %s", st, other, c)
		}
		seen[c] = st
	}
	screenshot(t, ctx, "run-graph")

	var message, logText string
	if err := chromedp.Run(ctx,
		chromedp.Click(`#graph .step-node[data-step="b"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#step-pane`, chromedp.ByQuery),
		chromedp.WaitVisible(`#step-log[data-ended] .log-line`, chromedp.ByQuery),
		chromedp.Text(`#step-message`, &message, chromedp.ByQuery),
		chromedp.Text(`#step-log`, &logText, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("selecting step b: %v", err)
	}
	if message != "b broke" || !strings.Contains(logText, "step b working") || strings.Contains(logText, "step a") {
		t.Errorf("step b's pane: message %q, log %q", message, logText)
	}
	screenshot(t, ctx, "run-graph-step")
}

// TestUIStepLogPanes: two steps running at once on one driver; each
// step's pane shows only its own lines, numbered from 1, and its
// parameters.
func TestUIStepLogPanes(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	runID := parallelRun(t, s)
	signIn(t, ctx, s)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs/"+runID),
		chromedp.WaitVisible(`h1 .status-succeeded`, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"left", "right"} {
		other := map[string]string{"left": "right", "right": "left"}[step]
		var with string
		if err := chromedp.Run(ctx,
			chromedp.Click(`#graph .step-node[data-step="`+step+`"]`, chromedp.ByQuery),
			chromedp.WaitVisible(`#step-with`, chromedp.ByQuery),
			chromedp.Poll(`document.querySelectorAll("#step-log[data-ended] .log-line").length === 3 &&
				document.querySelector("#step-pane h2 .mono").textContent === "`+step+`"`, nil),
			chromedp.Text(`#step-with`, &with, chromedp.ByQuery),
		); err != nil {
			t.Fatalf("step %s's pane: %v", step, err)
		}
		var lines []string
		evaluate(t, ctx, `[...document.querySelectorAll("#step-log .log-line")].map(l => l.textContent)`, &lines)
		want := []string{"1worker " + step + " line 1", "2worker " + step + " line 2", "3worker " + step + " line 3"}
		if diff := cmp.Diff(want, lines); diff != "" {
			t.Errorf("step %s's log pane (-want +got):\n%s", step, diff)
		}
		for _, l := range lines {
			if strings.Contains(l, other) {
				t.Errorf("step %s's pane shows a line of %s: %q", step, other, l)
			}
		}
		if side := map[string]string{"left": "west", "right": "east"}[step]; !strings.Contains(with, `"side": "`+side+`"`) {
			t.Errorf("step %s's parameters as shown: %q", step, with)
		}
		screenshot(t, ctx, "run-step-"+step)
	}
	// The run's log numbers every line in the run's order.
	var numbers []string
	evaluate(t, ctx, `[...document.querySelectorAll("#log .log-line .log-no")].map(a => a.textContent)`, &numbers)
	if diff := cmp.Diff([]string{"1", "2", "3", "4", "5", "6"}, numbers); diff != "" {
		t.Errorf("the run's log numbers (-want +got):\n%s", diff)
	}
}

// TestUIOpenMode: a server with authentication off opens its UI without
// asking for a token, and offers no sign-out.
func TestUIOpenMode(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, func(c *serverConfig) { c.Auth = false })
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/"),
		chromedp.WaitVisible(`tr[data-run="`+runID+`"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the runs page of an open server: %v", err)
	}
	if n := count(t, ctx, "#token"); n != 0 {
		t.Errorf("an open server's UI asks for a token")
	}
	var signOutHidden bool
	evaluate(t, ctx, `document.getElementById("signout").hidden`, &signOutHidden)
	if !signOutHidden {
		t.Errorf("an open server's UI offers to sign out")
	}
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs/"+runID),
		chromedp.WaitVisible(`#graph .step-node[data-step="compile"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//button[. = "Cancel"]`, chromedp.BySearch),
	); err != nil {
		t.Fatalf("a run's page on an open server: %v", err)
	}
	screenshot(t, ctx, "open-mode")
}

// TestUIRunListAndRunAgain: the runs page says what started each run (the
// resource, how it changed, and the token that changed it) and how long
// it took; Run again on an ended run starts a new run of the resource as
// it is, and the page follows it.
func TestUIRunListAndRunAgain(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "compile", "driver": "compiler"}}})
	runDriver(t, s, "compiler", func(ctx context.Context, req sdk.Request) sdk.Result {
		return sdk.Result{Success: true, Message: "compiled"}
	})
	alice := s.issue("alice", "operator")
	status, _, body := s.callAs(alice, "POST", "/resources", buildResource("app-1", "abc"))
	if status != http.StatusCreated {
		t.Fatalf("POST /resources as alice: %d %s", status, body)
	}
	var made struct {
		RunID string `json:"runid"`
	}
	if err := json.Unmarshal([]byte(body), &made); err != nil {
		t.Fatal(err)
	}
	run := s.waitRun(made.RunID)
	if by, _ := run["startedBy"].(map[string]any); by["kind"] != "token" || by["name"] != "alice" {
		t.Errorf("GET /runs/{id} startedBy: %v, want token alice", run["startedBy"])
	}
	signIn(t, ctx, s)
	row := `tr[data-run="` + made.RunID + `"]`
	var title, took string
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible(row+` .status-succeeded`, chromedp.ByQuery),
		chromedp.Text(row+` .run-title`, &title, chromedp.ByQuery),
		chromedp.Text(row+` .duration`, &took, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the runs page: %v", err)
	}
	if title != "build/app-1 created by token alice" || !strings.HasSuffix(took, "s") {
		t.Errorf("the run's row: title %q, duration %q", title, took)
	}
	screenshot(t, ctx, "runs-titles")

	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs/"+made.RunID),
		chromedp.WaitVisible(`h1 .status-succeeded`, chromedp.ByQuery),
		chromedp.Click(`#run-again`, chromedp.ByID),
		chromedp.Poll(`!location.hash.startsWith("#/runs/`+made.RunID+`") && location.hash.startsWith("#/runs/")`, nil),
		chromedp.WaitVisible(`h1 .status-succeeded`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("run again: %v", err)
	}
	var hash string
	evaluate(t, ctx, `location.hash`, &hash)
	again := strings.TrimPrefix(hash, "#/runs/")
	rerun := s.waitRun(again)
	if rerun["trigger"] != "update" || rerun["status"] != "succeeded" {
		t.Errorf("the run started again: %v", rerun)
	}
	if res := s.must(http.StatusOK, "GET", "/resources/build/app-1", nil); res["metadata"].(map[string]any)["version"] != "2" {
		t.Errorf("the resource after run again: %v, want version 2", res["metadata"])
	}
}
