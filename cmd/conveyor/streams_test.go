package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/conveyor/conveyor/sdk"
)

// runDriver runs an in-process sdk driver against the test server until
// stop, or the test's end.
func runDriver(t *testing.T, s *testServer, name string, reconcile sdk.DriverFunc, opts ...sdk.Option) (stop func()) {
	t.Helper()
	m, err := sdk.NewManager(sdk.NewDriver(name, []string{"build"}, reconcile), append([]sdk.Option{sdk.WithNATSURL(driverNATS(t, s.at, name))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return stop
}

// chatty logs n lines, pausing between them, then succeeds.
func chatty(n int, pause time.Duration) sdk.DriverFunc {
	return func(ctx context.Context, req sdk.Request) sdk.Result {
		for i := range n {
			req.Log.Printf("%s line %d", req.Step, i)
			if pause > 0 {
				time.Sleep(pause)
			}
		}
		return sdk.Result{Success: true}
	}
}

func wsURL(s *testServer, path string) string {
	return "ws" + strings.TrimPrefix(s.at.API, "http") + path
}

// TestLogStreamJoinedMidRun joins the WebSocket while the run is writing:
// every line arrives exactly once, in order, and the stream closes normally
// when the run has ended.
func TestLogStreamJoinedMidRun(t *testing.T) {
	s := startServer(t, nil)
	runDriver(t, s, "compiler", chatty(40, 5*time.Millisecond))
	runDriver(t, s, "uploader", chatty(40, 5*time.Millisecond))
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	for deadline := time.Now().Add(10 * time.Second); len(storedLogs(t, s.js, runID)) < 10; {
		if time.Now().After(deadline) {
			t.Fatal("the run logged nothing")
		}
		time.Sleep(10 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(s, "/runs/"+runID+"/logs/stream"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	var got []string
	var last uint64
	readUntilClosed(t, ctx, c, func(data []byte) {
		var line struct {
			Sequence uint64 `json:"sequence"`
			Step     string `json:"step"`
			Message  string `json:"message"`
		}
		if err := json.Unmarshal(data, &line); err != nil {
			t.Fatal(err)
		}
		if line.Sequence <= last {
			t.Fatalf("line %d after %d: out of order or twice", line.Sequence, last)
		}
		last = line.Sequence
		got = append(got, line.Message)
	})
	var want []string
	for _, step := range []string{"compile", "upload"} {
		for i := range 40 {
			want = append(want, fmt.Sprintf("%s line %d", step, i))
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("streamed %d lines, want the %d logged, in order:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	if run := s.must(http.StatusOK, "GET", "/runs/"+runID, nil); run["status"] != "succeeded" {
		t.Errorf("the stream closed before the run ended: %v", run["status"])
	}
}

// TestLogStreamCutsOffAClientThatNeverReads: a client that stops reading is
// closed with a reason, and the run is not slowed down by it.
func TestLogStreamCutsOffAClientThatNeverReads(t *testing.T) {
	s := startServer(t, nil)
	// 30,000 lines of 1 KiB: more than the socket buffers of loopback hold.
	pad := strings.Repeat("x", 1024)
	runDriver(t, s, "compiler", func(ctx context.Context, req sdk.Request) sdk.Result {
		for i := range 30000 {
			req.Log.Printf("%d %s", i, pad)
		}
		return sdk.Result{Success: true}
	})
	runDriver(t, s, "uploader", chatty(1, 0))
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(s, "/runs/"+runID+"/logs/stream"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if run := s.waitRun(runID); run["status"] != "succeeded" { // while the client reads nothing
		t.Fatalf("run ended %v", run["status"])
	}
	time.Sleep(500 * time.Millisecond) // the server notices the client is behind
	n := readUntilTooSlow(ctx, t, c, func([]byte) {})
	if n >= 30000 {
		t.Errorf("the slow client got all %d lines: it was never cut off", n)
	}
}

// readUntilTooSlow reads c to its end, handing each message to each, and
// fails the test unless the end is a policy-violation close saying the
// client is too slow; it returns how many messages came first.
func readUntilTooSlow(ctx context.Context, t *testing.T, c *websocket.Conn, each func([]byte)) int {
	t.Helper()
	c.SetReadLimit(1 << 20)
	for n := 0; ; n++ {
		_, data, err := c.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "too slow") {
				t.Fatalf("after %d lines the stream ended with %v, want a policy-violation close saying the client is too slow", n, err)
			}
			return n
		}
		each(data)
	}
}

// TestTraceAndHistory: the trace of a two-step run leads from the resource
// change through each dispatch and result; the history shows the create
// and the replace and the runs they started.
func TestTraceAndHistory(t *testing.T) {
	s := startServer(t, nil)
	runDriver(t, s, "compiler", chatty(1, 0))
	runDriver(t, s, "uploader", chatty(1, 0))
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	first := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	s.waitRun(first)
	_, second := s.replace("/resources/build/app-1", buildResource("app-1", "def"), "If-Match", `"1"`)
	s.waitRun(second)

	trace := s.must(http.StatusOK, "GET", "/runs/"+first+"/trace", nil)
	cause := trace["cause"].(map[string]any)
	if cause["type"] != "ResourceCreated.v1" || cause["correlationId"] != first {
		t.Fatalf("cause %v", cause)
	}
	events := trace["events"].([]any)
	var types []string
	ids := map[string]bool{cause["id"].(string): true}
	for _, raw := range events {
		e := raw.(map[string]any)
		types = append(types, fmt.Sprint(e["type"], "/", e["step"]))
		if e["correlationId"] != first {
			t.Errorf("%v has correlation %v, want the Run ID", e["type"], e["correlationId"])
		}
		cid := fmt.Sprint(e["causationId"])
		if e["type"] != "DriverResultRecorded.v1" && !ids[cid] {
			t.Errorf("%v is caused by %s, which is not earlier in the chain", e["type"], cid)
		}
		ids[e["id"].(string)] = true
	}
	want := "RunStarted.v1/<nil> StepDispatched.v1/compile DriverResultRecorded.v1/compile StepDispatched.v1/upload DriverResultRecorded.v1/upload RunSucceeded.v1/<nil>"
	if strings.Join(types, " ") != want {
		t.Errorf("trace\n got %s\nwant %s", strings.Join(types, " "), want)
	}

	history := s.must(http.StatusOK, "GET", "/resources/build/app-1/history", nil)["items"].([]any)
	if len(history) != 2 {
		t.Fatalf("history %v", history)
	}
	for i, want := range []struct{ typ, run string }{{"ResourceCreated.v1", first}, {"ResourceUpdated.v1", second}} {
		h := history[i].(map[string]any)
		if h["type"] != want.typ || h["runid"] != want.run || h["version"] != float64(i+1) {
			t.Errorf("history[%d] = %v", i, h)
		}
	}

	page := s.must(http.StatusOK, "GET", "/events?aggregate=run/"+first+"&limit=2", nil)
	if items := page["items"].([]any); len(items) != 2 || page["next"] == nil {
		t.Errorf("first page of the run's events: %v", page)
	}
	byRun := s.must(http.StatusOK, "GET", "/events?runid="+second, nil)["items"].([]any)
	if len(byRun) != 7 { // the replace and the run's six events
		t.Errorf("events of run %s: %d, want 7", second, len(byRun))
	}
}

// TestLegacySSEAndEventStream: Conveyor CI's older log endpoints answer
// server-sent events, and the event log can be followed over WebSocket.
func TestLegacySSEAndEventStream(t *testing.T) {
	s := startServer(t, nil)
	runID := finishedRun(t, s, 3, 2)
	for path, want := range map[string]int{
		"/logs?runid=" + runID:                      5,
		"/logs/streams/uploader/" + runID:           2,
		"/logs/pipeline/" + runID:                   5,
		"/logs?runid=" + runID + "&driver=compiler": 3,
	} {
		status, body := s.callRaw("GET", path, nil, "Accept", "text/event-stream")
		if status != http.StatusOK || strings.Count(string(body), "data: ") != want {
			t.Errorf("GET %s: %d with %d events, want %d:\n%s", path, status, strings.Count(string(body), "data: "), want, body)
		}
	}
	// Without asking for events, GET /logs answers the JSON array the
	// original's clients read.
	status, body := s.callRaw("GET", "/logs?runid="+runID+"&driver=compiler", nil)
	var lines []struct{ RunID, Driver, Pipeline, Timestamp, Message string }
	if err := json.Unmarshal(body, &lines); status != http.StatusOK || err != nil || len(lines) != 3 ||
		lines[0].RunID != runID || lines[0].Driver != "compiler" || lines[0].Timestamp == "" {
		t.Errorf("GET /logs as JSON: %d %v, want the compiler's 3 lines:\n%s", status, err, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(s, "/events/stream?runid="+runID), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	var types []string
	for len(types) < 7 {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", types, err)
		}
		var e struct{ Type string }
		_ = json.Unmarshal(data, &e)
		types = append(types, e.Type)
	}
	if types[0] != "ResourceCreated.v1" || types[6] != "RunSucceeded.v1" {
		t.Errorf("followed events %v", types)
	}
}

// TestSSEAnswersBeforeTheFirstLine: the server-sent-event endpoints answer
// at once, before the run has logged anything: status, content type and
// all, so that a client of a quiet run knows it is connected.
func TestSSEAnswersBeforeTheFirstLine(t *testing.T) {
	s := startServer(t, nil)
	runID := s.waitingRun()
	for _, path := range []string{"/logs?runid=" + runID, "/logs/streams/compiler/" + runID, "/logs/pipeline/" + runID} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", s.at.API+path, nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("GET %s: no answer before any line: %v", path, err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Errorf("GET %s: %d %q, want 200 text/event-stream", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		_ = resp.Body.Close()
		cancel()
	}
	if lines := storedLogs(t, s.js, runID); len(lines) != 0 {
		t.Fatalf("the run logged %d lines: the test proves nothing", len(lines))
	}
}

// TestLogStreamBatched: asked with batch=true, the log stream sends JSON
// arrays of lines, several to a message when they are waiting (a history
// arriving at once), with every line once and in order.
func TestLogStreamBatched(t *testing.T) {
	s := startServer(t, nil)
	runDriver(t, s, "compiler", chatty(300, 0))
	runDriver(t, s, "uploader", chatty(300, 0))
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	if run := s.waitRun(runID); run["status"] != "succeeded" {
		t.Fatalf("the run ended %v", run["status"])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(s, "/runs/"+runID+"/logs/stream?batch=true"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(4 << 20)
	var lines, messages int
	var last uint64
	readUntilClosed(t, ctx, c, func(data []byte) {
		messages++
		var batch []struct {
			Sequence uint64 `json:"sequence"`
		}
		if err := json.Unmarshal(data, &batch); err != nil || len(batch) == 0 {
			t.Fatalf("message %d is not a non-empty array of lines: %v %.80s", messages, err, data)
		}
		for _, l := range batch {
			if l.Sequence <= last {
				t.Fatalf("line %d after %d: out of order or twice", l.Sequence, last)
			}
			last = l.Sequence
			lines++
		}
	})
	if lines != 600 {
		t.Errorf("%d lines streamed, want 600", lines)
	}
	if messages >= lines {
		t.Errorf("%d messages for %d lines: nothing was batched", messages, lines)
	}
	t.Logf("%d lines in %d messages", lines, messages)
}

// readUntilClosed hands each message of c to each until the server closes
// the stream normally; any other end fails the test.
func readUntilClosed(t *testing.T, ctx context.Context, c *websocket.Conn, each func([]byte)) {
	t.Helper()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			if status := websocket.CloseStatus(err); status != websocket.StatusNormalClosure {
				t.Fatalf("stream ended with %v (status %d)", err, status)
			}
			return
		}
		each(data)
	}
}
