package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// dialAs opens a WebSocket on path with token, and returns the handshake's
// answer also when it is refused.
func dialAs(ctx context.Context, s *testServer, token, path string) (*websocket.Conn, *http.Response, error) {
	return websocket.Dial(ctx, wsURL(s, path), &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: withoutToken}, HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
}

// apiProbe calls the API over and over while streams are open: a read with
// the streams' own token and a write with the admin token. It counts the
// answers that are not what they should be and keeps the slowest.
type apiProbe struct {
	name     string // of the resources it writes
	failures atomic.Int64
	calls    atomic.Int64
	rounds   atomic.Int64 // of the three calls, each answered
	mu       sync.Mutex
	took     []time.Duration // of each call answered
	firstBad string
}

func (p *apiProbe) run(ctx context.Context, s *testServer, viewer string) {
	client := &http.Client{Transport: withoutToken, Timeout: 20 * time.Second}
	call := func(token, method, path string, body any, want int) {
		var r io.Reader
		if body != nil {
			data, _ := json.Marshal(body)
			r = bytes.NewReader(data)
		}
		req, _ := http.NewRequestWithContext(ctx, method, s.at.API+path, r)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := client.Do(req)
		took := time.Since(start)
		if ctx.Err() != nil {
			return
		}
		p.calls.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.took = append(p.took, took)
		if err != nil || resp.StatusCode != want {
			p.failures.Add(1)
			if p.firstBad == "" {
				p.firstBad = fmt.Sprintf("%s %s: %v %v", method, path, err, resp)
			}
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	for i := 0; ctx.Err() == nil; i++ {
		if i > 0 {
			p.rounds.Add(1)
		}
		call(viewer, "GET", "/me", nil, http.StatusOK)
		call(viewer, "GET", "/resources/build?limit=1", nil, http.StatusOK)
		call(s.token, "POST", "/resources", map[string]any{"name": fmt.Sprintf("%s-%d", p.name, i), "resource": "build",
			"spec": map[string]any{"repo": "https://example.com/app.git", "ref": "main"}}, http.StatusCreated)
		time.Sleep(50 * time.Millisecond)
	}
}

// waitRounds waits until the probe has made n rounds of its calls, for
// at most a generous bound: an API that answers makes one in tens of
// milliseconds.
func (p *apiProbe) waitRounds(n int64) {
	for deadline := time.Now().Add(30 * time.Second); p.rounds.Load() < n && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *apiProbe) check(t *testing.T, while string, rounds int64) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	slices.Sort(p.took)
	at := func(q float64) time.Duration {
		if len(p.took) == 0 {
			return 0
		}
		return p.took[int(q*float64(len(p.took)-1))].Round(time.Millisecond)
	}
	rss, _ := residentMemory(os.Getpid())
	t.Logf("%s: %d rounds of API calls, p50 %v, p99 %v, the slowest %v; RSS of the test process (server and clients) %d MB",
		while, p.rounds.Load(), at(0.5), at(0.99), at(1), rss>>20)
	if p.rounds.Load() < rounds || p.failures.Load() > 0 {
		t.Errorf("%s: %d rounds of API calls in 30s (want %d), %d of %d calls failed, the first: %s",
			while, p.rounds.Load(), rounds, p.failures.Load(), p.calls.Load(), p.firstBad)
	}
}

// fillLog writes n resources, eight at a time, so that a stream from the
// start of the log has history to replay.
func fillLog(t *testing.T, s *testServer, n int) {
	t.Helper()
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	var wg sync.WaitGroup
	names := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range names {
				body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("app-%d", i), "resource": "build",
					"spec": map[string]any{"repo": "https://example.com/app.git", "ref": "main"}})
				resp, err := http.Post(s.at.API+"/resources", "application/json", bytes.NewReader(body))
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	for i := range n {
		names <- i
	}
	close(names)
	wg.Wait()
}

// TestManyEventStreamsLeaveTheAPIUp: hundreds of event streams from one
// viewer token, each replaying the log from its start to a client that
// never reads, leave every other API call answering; once the clients are
// gone the server lets go of them within seconds. Beyond the limits, a
// stream is refused before the upgrade: 429 for one token too many, 503
// for the server's total, each with Retry-After.
func TestManyEventStreamsLeaveTheAPIUp(t *testing.T) {
	manyEventStreams(t, 300, 400)
}

// TestReliabilityThousandEventStreams: the same with 1,000 streams of one
// token, as the figures of docs/security.md were measured.
func TestReliabilityThousandEventStreams(t *testing.T) {
	reliability(t)
	manyEventStreams(t, 1000, 1000)
}

func manyEventStreams(t *testing.T, perToken, total int) {
	s := startServer(t, func(c *serverConfig) { c.MaxStreamsPerToken, c.MaxStreams = perToken, total })
	fillLog(t, s, 3600)
	viewer, other := s.issue("watcher", "viewer"), s.issue("second", "viewer")
	baseGoroutines := settledGoroutines()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	open := func(token, path string, n int) []*websocket.Conn {
		t.Helper()
		conns := make([]*websocket.Conn, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conns[i], _, errs[i] = dialAs(ctx, s, token, path)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("stream %d of %d: %v", i, n, err)
			}
		}
		return conns
	}
	probes := 0
	probing := func() (*apiProbe, func()) {
		probes++
		p := &apiProbe{name: fmt.Sprintf("probe%d", probes)}
		pctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); p.run(pctx, s, viewer) }()
		return p, func() { stop(); <-done }
	}

	// Replays of the whole log to clients that read nothing.
	p, stop := probing()
	replays := open(viewer, "/events/stream", perToken)
	p.waitRounds(20)
	stop()
	p.check(t, fmt.Sprintf("%d streams replaying the log", len(replays)), 20)
	for _, c := range replays {
		_ = c.CloseNow()
	}
	started := time.Now()
	for deadline := started.Add(10 * time.Second); ; {
		n := runtime.NumGoroutine()
		if n <= baseGoroutines+20 {
			t.Logf("abandoned streams released in %v (%d goroutines, %d before)", time.Since(started).Round(time.Millisecond), n, baseGoroutines)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10s after %d clients went: %d goroutines, %d before", len(replays), n, baseGoroutines)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.waitOpenStreams("events", 0)

	// Streams that stay open, up to the limits and one beyond each.
	p, stop = probing()
	live := fmt.Sprintf("/events/stream?after=%d", s.lastSeq())
	held := append(open(viewer, live, perToken), open(other, live, total-perToken)...)
	defer func() {
		for _, c := range held {
			_ = c.CloseNow()
		}
	}()
	s.waitOpenStreams("events", total)
	for _, refused := range []struct {
		token  string
		status int
	}{{viewer, http.StatusTooManyRequests}, {other, http.StatusServiceUnavailable}} {
		c, resp, err := dialAs(ctx, s, refused.token, live)
		if err == nil {
			c.CloseNow()
		}
		if resp == nil || resp.StatusCode != refused.status || resp.Header.Get("Retry-After") == "" {
			t.Errorf("a stream beyond the limits: %v (%v); want %d with Retry-After", resp, err, refused.status)
		}
	}
	time.Sleep(time.Second)
	stop()
	p.check(t, fmt.Sprintf("%d streams open", len(held)), 1)
	_, metrics := s.callRaw("GET", "/metrics", nil)
	for _, line := range []string{`conveyor_streams_refused_total{limit="token"} 1`, `conveyor_streams_refused_total{limit="server"} 1`} {
		if !bytes.Contains(metrics, []byte(line+"\n")) {
			t.Errorf("metrics lack %q", line)
		}
	}
}

// TestSilentClientIsLetGo: a client that is gone without closing its
// connection answers no ping; its idle stream is let go within seconds
// (a ping every 10s, 5s for the pong), not held until the connection
// times out.
func TestSilentClientIsLetGo(t *testing.T) {
	s := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, _, err := dialAs(ctx, s, s.token, fmt.Sprintf("/events/stream?after=%d", s.lastSeq()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow() // never read: pings go unanswered, as from a machine that is gone
	s.waitOpenStreams("events", 1)
	started := time.Now()
	for deadline := started.Add(25 * time.Second); ; {
		_, raw := s.callRaw("GET", "/metrics", nil)
		if bytes.Contains(raw, []byte(`conveyor_open_streams{kind="events"} 0`)) {
			t.Logf("let go after %v", time.Since(started).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a client that answers no ping still held its stream after 25s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
