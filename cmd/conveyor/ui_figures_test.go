package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/conveyor/conveyor/sdk"
)

// TestUIFigures measures the web UI in a real browser and prints the
// figures: how long the runs page takes to show its first page with 10,000
// runs stored, and what a page following a 100,000-line log holds in memory.
// It asserts only that the pages showed what they should: timing stays out
// of pass and fail. It runs under `make bench` (CONVEYOR_UI_FIGURES=1), as
// it takes a minute; BENCHMARKS.md keeps its figures.
func TestUIFigures(t *testing.T) {
	if os.Getenv("CONVEYOR_UI_FIGURES") != "1" {
		t.Skip("a measurement: set CONVEYOR_UI_FIGURES=1 (make bench does)")
	}
	ctx := browserWithin(t, 10*time.Minute)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "compile", "driver": "compiler"}}})
	const runs, lines = 10000, 100000

	// 10,000 runs: resources created 16 at a time; nothing runs their step
	// but the one resource the log test uses.
	start := time.Now()
	var wg sync.WaitGroup
	names := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range names {
				if status, body := s.call("POST", "/resources", buildResource(fmt.Sprintf("app-%d", i), "abc")); status != http.StatusCreated {
					t.Errorf("create %d: %d %v", i, status, body)
				}
			}
		}()
	}
	for i := range runs {
		names <- i
	}
	close(names)
	wg.Wait()
	for deadline := time.Now().Add(time.Minute); ; {
		page := s.must(http.StatusOK, "GET", "/runs?limit=1&continue=", nil)
		if items, _ := page["items"].([]any); len(items) == 1 && countRuns(s) >= runs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %d runs did not all appear", runs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d runs stored in %s", runs, time.Since(start).Round(time.Millisecond))

	signIn(t, ctx, s)
	var shown, paint float64
	if err := chromedp.Run(ctx,
		chromedp.Navigate("about:blank"),
		chromedp.Navigate(s.at.API+"/#/runs"),
		chromedp.WaitVisible(`#runs tr:nth-child(50)`, chromedp.ByQuery),
		chromedp.Poll(`performance.getEntriesByName("conveyor:runs-shown").length > 0`, nil),
		chromedp.Evaluate(`performance.getEntriesByName("conveyor:runs-shown")[0].startTime`, &shown),
		chromedp.Evaluate(`(performance.getEntriesByName("first-contentful-paint")[0] || {startTime: -1}).startTime`, &paint),
	); err != nil {
		t.Fatalf("the runs page: %v", err)
	}
	fmt.Printf("ui figure: runs page with %d runs: first paint %.0f ms, first page of 50 runs on screen %.0f ms after navigation\n", runs, paint, shown)

	// A run whose driver logs 100,000 lines, followed by its page.
	written := make(chan time.Time, 1)
	runDriver(t, s, "compiler", func(ctx context.Context, req sdk.Request) sdk.Result {
		if req.Resource.Name != "long-log" {
			return sdk.Result{Success: true}
		}
		for i := 1; i <= lines; i++ {
			req.Log.Printf("line %d of a long log: \x1b[32mok\x1b[0m compiling package %d", i, i%97)
		}
		req.Log.Flush()
		written <- time.Now()
		return sdk.Result{Success: true}
	})
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("long-log", "abc"))["runid"].(string)
	// A browser of its own, so that its renderers hold this page only.
	ctx = browserWithin(t, 10*time.Minute)
	signIn(t, ctx, s)
	before := rendererMemory(t, ctx)
	start = time.Now()
	if err := chromedp.Run(ctx, chromedp.Navigate(s.at.API+"/#/runs/"+runID)); err != nil {
		t.Fatal(err)
	}
	var got int
	for deadline := time.Now().Add(5 * time.Minute); got < lines; {
		if err := chromedp.Run(ctx, chromedp.Evaluate(`Number((document.getElementById("log") || {dataset: {}}).dataset.lines || 0)`, &got)); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page shows %d of %d lines", got, lines)
		}
		time.Sleep(250 * time.Millisecond)
	}
	followed := time.Since(start)
	wrote := (<-written).Sub(start)
	var rendered, nodes, drops int
	var used, total float64
	if err := chromedp.Run(ctx,
		chromedp.Evaluate(`document.querySelectorAll("#log .log-line").length`, &rendered),
		chromedp.Evaluate(`document.getElementsByTagName("*").length`, &nodes),
		chromedp.Evaluate(`Number(document.getElementById("log").dataset.drops || 0)`, &drops),
		chromedp.ActionFunc(func(ctx context.Context) error {
			if err := heapprofiler.CollectGarbage().Do(ctx); err != nil {
				return err
			}
			u, tot, _, _, err := runtime.GetHeapUsage().Do(ctx)
			used, total = u, tot
			return err
		}),
	); err != nil {
		t.Fatal(err)
	}
	// Only the lines near the view are drawn; the last one is among them.
	var last bool
	if err := chromedp.Run(ctx, chromedp.Evaluate(`!!document.getElementById("L`+strconv.Itoa(lines)+`")`, &last)); err != nil {
		t.Fatal(err)
	}
	if rendered == 0 || rendered >= lines || !last {
		t.Errorf("%d lines drawn, the last one drawn: %v; want the newest few hundred", rendered, last)
	}
	renderer := rendererMemory(t, ctx)
	screenshot(t, ctx, "long-log")
	// The same log once more, now that it is all stored: the history alone.
	start = time.Now()
	if err := chromedp.Run(ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(s.at.API+"/#/runs/"+runID),
		chromedp.Poll(`document.getElementById("log") && document.getElementById("log").dataset.lines === "`+strconv.Itoa(lines)+`"`, nil,
			chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	history := time.Since(start)
	fmt.Printf("ui figure: run page following a %d-line log: the driver wrote them in %s, the page showed the last %s after it opened; "+
		"the browser's renderers %.0f MB resident (%.0f MB on the runs page before), JS heap %.1f MB used of %.1f MB, %d DOM elements (%d lines drawn); "+
		"the stream was cut %d times for the page falling behind; opened again once stored, all %d lines arrived in %s\n",
		lines, wrote.Round(100*time.Millisecond), followed.Round(100*time.Millisecond), renderer/1e6, before/1e6, used/1e6, total/1e6, nodes, rendered, drops, lines, history.Round(10*time.Millisecond))
}

// rendererMemory is the resident memory of the browser's renderer
// processes: the DOM, layout and JavaScript of its page, and the renderer
// Chromium keeps spare for the next one.
func rendererMemory(t *testing.T, ctx context.Context) float64 {
	t.Helper()
	browser := chromedp.FromContext(ctx).Browser.Process()
	if browser == nil {
		return 0
	}
	var total float64
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte("--type=renderer")) || !descends(p, browser.Pid) {
			continue
		}
		status, _ := os.ReadFile(p + "/status")
		for _, line := range strings.Split(string(status), "\n") {
			if kb, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")))
				total += float64(n) * 1024
			}
		}
	}
	return total
}

// descends says whether the process at /proc/N has ancestor pid.
func descends(proc string, pid int) bool {
	for range 10 {
		stat, err := os.ReadFile(proc + "/stat")
		if err != nil {
			return false
		}
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 {
			return false
		}
		parent, _ := strconv.Atoi(fields[1])
		if parent == pid {
			return true
		}
		if parent <= 1 {
			return false
		}
		proc = "/proc/" + fields[1]
	}
	return false
}

// countRuns is the number of runs the API lists, following every page.
func countRuns(s *testServer) int {
	n, cont := 0, ""
	for {
		page := s.must(http.StatusOK, "GET", "/runs?limit=1000&continue="+cont, nil)
		items, _ := page["items"].([]any)
		n += len(items)
		cont, _ = page["continue"].(string)
		if cont == "" {
			return n
		}
	}
}
