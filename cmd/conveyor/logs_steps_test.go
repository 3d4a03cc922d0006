package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/conveyor/conveyor/sdk"
	"github.com/google/go-cmp/cmp"
)

// parallelRun runs a pipeline of two steps, left and right, that start
// together on one driver taking two works at once, and write three lines
// each, interleaved, and returns the ended run's ID.
func parallelRun(t *testing.T, s *testServer) string {
	t.Helper()
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "left", "driver": "worker", "needs": []string{}, "with": map[string]any{"side": "west"}},
			{"id": "right", "driver": "worker", "needs": []string{}, "with": map[string]any{"side": "east"}}}})
	// Each step writes once both have started, so that their lines
	// interleave.
	var started sync.WaitGroup
	started.Add(2)
	both := make(chan struct{})
	go func() { started.Wait(); close(both) }()
	runDriver(t, s, "worker", func(ctx context.Context, req sdk.Request) sdk.Result {
		started.Done()
		select {
		case <-both:
		case <-time.After(5 * time.Second):
		}
		for i := range 3 {
			req.Log.Printf("%s line %d", req.Step, i+1)
			time.Sleep(20 * time.Millisecond)
		}
		return sdk.Result{Success: true}
	}, sdk.WithConcurrency(2))
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	if run := s.waitRun(runID); run["status"] != "succeeded" {
		t.Fatalf("the run: %v", run)
	}
	return runID
}

// logEntry is what these tests compare of a line.
type logEntry struct {
	Step    string `json:"step"`
	Attempt int    `json:"attempt"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// stepLines is what step's lines must be: three, numbered from 1.
func stepLines(step string) []logEntry {
	var out []logEntry
	for i := range 3 {
		out = append(out, logEntry{Step: step, Attempt: 1, Line: i + 1, Message: fmt.Sprintf("%s line %d", step, i+1)})
	}
	return out
}

// TestLogsPerStep: two steps running at once on one driver; GET
// /runs/{id}/logs, its WebSocket and its server-sent events, asked for
// one step, answer that step's lines only, numbered from 1; asked for the
// whole run, every line numbered in the run's order.
func TestLogsPerStep(t *testing.T) {
	s := startServer(t, nil)
	runID := parallelRun(t, s)

	page := func(query string) ([]logEntry, uint64) {
		t.Helper()
		status, body := s.callRaw("GET", "/runs/"+runID+"/logs?"+query, nil)
		var out struct {
			Items []logEntry `json:"items"`
			Next  uint64     `json:"next"`
		}
		if err := json.Unmarshal(body, &out); status != http.StatusOK || err != nil {
			t.Fatalf("GET logs?%s: %d %v\n%s", query, status, err, body)
		}
		return out.Items, out.Next
	}
	all, _ := page("")
	if len(all) != 6 {
		t.Fatalf("the run's log: %d lines, want 6: %v", len(all), all)
	}
	interleaved := false
	for i, l := range all {
		if l.Line != i+1 || l.Attempt != 1 || (l.Step != "left" && l.Step != "right") {
			t.Errorf("line %d of the run: %+v, want numbered %d, of a step, attempt 1", i, l, i+1)
		}
		interleaved = interleaved || (i > 0 && i < 3 && l.Step != all[0].Step)
	}
	if !interleaved {
		t.Errorf("the steps' lines did not interleave: %v", all)
	}
	for _, step := range []string{"left", "right"} {
		got, _ := page("step=" + step)
		if diff := cmp.Diff(stepLines(step), got); diff != "" {
			t.Errorf("GET logs?step=%s (-want +got):\n%s", step, diff)
		}
		got, _ = page("step=" + step + "&attempt=1")
		if diff := cmp.Diff(stepLines(step), got); diff != "" {
			t.Errorf("GET logs?step=%s&attempt=1 (-want +got):\n%s", step, diff)
		}
		// Page by page, the server counts the lines before the page.
		var paged []logEntry
		for q := "step=" + step + "&limit=2"; ; {
			items, next := page(q)
			paged = append(paged, items...)
			if next == 0 {
				break
			}
			q = fmt.Sprintf("step=%s&limit=2&after=%d", step, next)
		}
		if diff := cmp.Diff(stepLines(step), paged); diff != "" {
			t.Errorf("GET logs?step=%s two at a time (-want +got):\n%s", step, diff)
		}
	}
	if got, _ := page("step=left&attempt=2"); len(got) != 0 {
		t.Errorf("GET logs?step=left&attempt=2: %v, want none", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bearer := &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + s.token}}}
	for _, step := range []string{"left", "right"} {
		c, _, err := websocket.Dial(ctx, wsURL(s, "/runs/"+runID+"/logs/stream?step="+step), bearer)
		if err != nil {
			t.Fatal(err)
		}
		var got []logEntry
		for {
			_, data, err := c.Read(ctx)
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
				break
			}
			if err != nil {
				t.Fatalf("the %s stream after %d lines: %v", step, len(got), err)
			}
			var l logEntry
			if err := json.Unmarshal(data, &l); err != nil {
				t.Fatal(err)
			}
			got = append(got, l)
		}
		if diff := cmp.Diff(stepLines(step), got); diff != "" {
			t.Errorf("the WebSocket of step %s (-want +got):\n%s", step, diff)
		}
		// From the middle, as a page reconnecting does: numbering goes on,
		// counted by the server or from the line= the client names.
		for _, known := range []string{"", "&line=1"} {
			c, _, err = websocket.Dial(ctx, wsURL(s, fmt.Sprintf("/runs/%s/logs/stream?step=%s&after=%d%s", runID, step, lineSeq(t, s, runID, step), known)), bearer)
			if err != nil {
				t.Fatal(err)
			}
			_, data, err := c.Read(ctx)
			var l logEntry
			if err != nil || json.Unmarshal(data, &l) != nil || l.Line != 2 || l.Step != step {
				t.Errorf("the %s stream after its first line%s: %s %v, want its line 2", step, known, data, err)
			}
			c.CloseNow()
		}

		status, body := s.callRaw("GET", "/logs/pipeline/"+runID+"?step="+step, nil, "Accept", "text/event-stream")
		var sse []logEntry
		for _, ev := range strings.Split(string(body), "\n\n") {
			if data, ok := strings.CutPrefix(ev, "data: "); ok {
				var l logEntry
				if err := json.Unmarshal([]byte(data), &l); err != nil {
					t.Fatal(err)
				}
				sse = append(sse, l)
			}
		}
		if diff := cmp.Diff(stepLines(step), sse); status != http.StatusOK || diff != "" {
			t.Errorf("server-sent events of step %s: %d (-want +got):\n%s", step, status, diff)
		}
	}
}

// lineSeq is the sequence of step's first line in runID's log.
func lineSeq(t *testing.T, s *testServer, runID, step string) uint64 {
	t.Helper()
	items := s.must(http.StatusOK, "GET", "/runs/"+runID+"/logs?limit=1&step="+step, nil)["items"].([]any)
	return uint64(items[0].(map[string]any)["sequence"].(float64))
}

// TestCLILogsPerStep: `conveyor logs RUN --step S` prints that step's
// lines only, each naming its step and attempt (left#1).
func TestCLILogsPerStep(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	s := server.client(t, "/conveyor")
	runID := parallelRun(t, s)

	code, out, errOut := cliRun(t, server, "", "logs", runID)
	if code != 0 || strings.Count(out, "\n") != 6 || !strings.Contains(out, " left#1 worker     | left line 1\n") ||
		!strings.Contains(out, " right#1 worker     | right line 3\n") {
		t.Errorf("logs: exit %d\n%s%s", code, out, errOut)
	}
	for _, args := range [][]string{{"--step", "right"}, {"--step", "right", "--attempt", "1"}, {"--step", "right", "-f"}} {
		code, out, errOut := cliRun(t, server, "", append([]string{"logs", runID}, args...)...)
		if code != 0 || strings.Count(out, "\n") != 3 || strings.Contains(out, "left") || !strings.Contains(out, " right#1 worker     | right line 2\n") {
			t.Errorf("logs %v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	if code, out, _ := cliRun(t, server, "", "logs", runID, "--step", "right", "--attempt", "2"); code != 0 || out != "" {
		t.Errorf("logs --step right --attempt 2: exit %d, %q; want nothing", code, out)
	}
}
