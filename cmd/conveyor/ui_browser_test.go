package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/conveyor/conveyor/sdk"
)

// browser starts headless Chromium for a test. Where there is none it skips,
// saying so; under CI=true it fails instead, as CI installs it.
func browser(t *testing.T) context.Context {
	t.Helper()
	return browserWithin(t, 90*time.Second)
}

// browserWithin is browser with a time limit for everything the test does
// in it.
func browserWithin(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium on PATH: CI must run the browser tests (.ci/run installs it)")
		}
		t.Skip("no chromium on PATH: the browser tests do not run (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1280, 900))
	// Chromium now and then exits before it says where its DevTools listen
	// ("chrome failed to start"), seen about once in a few dozen starts on a
	// loaded machine: a start is tried three times.
	for attempt := 1; ; attempt++ {
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(actx)
		if err := chromedp.Run(ctx); err != nil {
			cancel()
			cancelAlloc()
			if attempt == 3 {
				t.Fatalf("chromium did not start, three times: %v", err)
			}
			t.Logf("chromium did not start (attempt %d of 3): %v", attempt, err)
			continue
		}
		ctx, cancelTimeout := context.WithTimeout(ctx, limit)
		t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
		return ctx
	}
}

// screenshot saves the page next to the test's output and logs where.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := filepath.Join(os.TempDir(), "conveyor-ui-screenshots")
	_ = os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err == nil {
		t.Logf("screenshot: %s", path)
	}
}

// signIn opens the UI and signs in with the server's admin token.
func signIn(t *testing.T, ctx context.Context, s *testServer) {
	t.Helper()
	signInAs(t, ctx, s, s.token)
}

// signInAs opens the UI and signs in with secret.
func signInAs(t *testing.T, ctx context.Context, s *testServer, secret string) {
	t.Helper()
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/signin"),
		chromedp.WaitVisible("#token", chromedp.ByID),
		chromedp.SendKeys("#token", secret, chromedp.ByID),
		chromedp.Click("#signin", chromedp.ByID),
		chromedp.WaitReady("#runs", chromedp.ByID),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
}

// TestUIRunAppearsAndFollowsItsLog: on the runs page, a run started through
// the API appears and turns green without a reload; its page shows the
// steps and the log lines as they arrive; a running run is cancelled from
// its button.
func TestUIRunAppearsAndFollowsItsLog(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "compile", "driver": "compiler"}}})
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	runDriver(t, s, "compiler", func(ctx context.Context, req sdk.Request) sdk.Result {
		req.Log.Printf("\x1b[32mcompiling\x1b[0m %s", req.Resource.Name)
		if req.Resource.Name == "slow" {
			select {
			case <-release:
			case <-ctx.Done():
				return sdk.Result{Success: false, Message: "stopped"}
			}
		}
		return sdk.Result{Success: true, Message: "compiled"}
	})
	signIn(t, ctx, s)

	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	row := `tr[data-run="` + runID + `"] .status-succeeded`
	if err := chromedp.Run(ctx, chromedp.WaitVisible(row, chromedp.ByQuery)); err != nil {
		t.Fatalf("the run did not appear green on the runs page: %v", err)
	}
	screenshot(t, ctx, "runs")

	slow := s.must(http.StatusCreated, "POST", "/resources", buildResource("slow", "abc"))["runid"].(string)
	var logText string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs/"+slow),
		chromedp.WaitVisible(`//pre[@id="log"]//span[contains(@class,"ansi-32") and contains(., "compiling")]`, chromedp.BySearch),
		chromedp.Text("#log", &logText, chromedp.ByID),
	); err != nil {
		t.Fatalf("the run page did not show the log line: %v", err)
	}
	if !strings.Contains(logText, "compiling slow") || strings.Contains(logText, "\x1b") {
		t.Errorf("log as shown: %q", logText)
	}
	screenshot(t, ctx, "run")
	if err := chromedp.Run(ctx,
		chromedp.Click(`//button[. = "Cancel"]`, chromedp.BySearch),
		chromedp.WaitVisible(`h1 .status-cancelled`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("cancel from the page: %v", err)
	}
	if run := s.must(http.StatusOK, "GET", "/runs/"+slow, nil); run["status"] != "cancelled" {
		t.Errorf("the run is %v after the cancel button", run["status"])
	}
}

// TestUIDocsRenderOffline: /docs renders the API reference from files the
// binary serves: the operations are listed, and no request leaves the
// server's address.
func TestUIDocsRenderOffline(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	api, _ := url.Parse(s.at.API)
	// The renderer links a logo on a CDN; the page's Content-Security-Policy
	// must stop it, and every other request to another host, in the browser.
	var mu sync.Mutex
	elsewhere, blocked := map[network.RequestID]string{}, map[network.RequestID]bool{}
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			u, err := url.Parse(e.Request.URL)
			if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != api.Host {
				elsewhere[e.RequestID] = e.Request.URL
			}
		case *network.EventLoadingFailed:
			if e.BlockedReason == network.BlockedReasonCsp {
				blocked[e.RequestID] = true
			}
		}
	})
	if err := chromedp.Run(ctx, network.Enable(), chromedp.Navigate(s.at.API+"/docs")); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "Create a resource definition")
	screenshot(t, ctx, "docs")
	time.Sleep(500 * time.Millisecond) // the last events arrive
	mu.Lock()
	defer mu.Unlock()
	for id, u := range elsewhere {
		if !blocked[id] {
			t.Errorf("/docs reached another host: %s", u)
		}
	}
}

// waitText waits until the page's text holds want.
func waitText(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	for {
		var found bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(`document.body && document.body.innerText.includes(`+strconv.Quote(want)+`)`, &found)); err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if found {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the page never showed %q", want)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestUIRunsFilterAndPaging: the runs page filters by resource and pages
// through more runs than one page holds.
func TestUIRunsFilterAndPaging(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	for i := range 55 {
		s.must(http.StatusCreated, "POST", "/resources", buildResource(fmt.Sprintf("app-%d", i), "abc"))
	}
	signIn(t, ctx, s)
	rows := func() int {
		var n int
		if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll("#runs tr[data-run]").length`, &n)); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitRows := func(want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for rows() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d rows, want %d", rows(), want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitRows(50)
	if err := chromedp.Run(ctx, chromedp.WaitVisible("#next-page", chromedp.ByID), chromedp.Click("#next-page", chromedp.ByID)); err != nil {
		t.Fatalf("next page: %v", err)
	}
	waitRows(5)
	if err := chromedp.Run(ctx, chromedp.Navigate(s.at.API+"/#/runs?resource=build/app-7")); err != nil {
		t.Fatal(err)
	}
	waitRows(1)
	waitText(t, ctx, "build/app-7")
	screenshot(t, ctx, "runs-filtered")
	// A time span: every run started after 2000, none before.
	if err := chromedp.Run(ctx, chromedp.Navigate(s.at.API+"/#/runs?since=2000-01-01T00:00"), chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitRows(50)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/runs?until=2000-01-01T00:00"), chromedp.Reload(),
		chromedp.Poll(`performance.getEntriesByName("conveyor:runs-shown").length > 0`, nil),
	); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 0 {
		t.Errorf("%d runs started before 2000", n)
	}
}
