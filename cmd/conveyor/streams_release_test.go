package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// consumerNames lists the consumers the server holds on a stream, sorted.
func (s *testServer) consumerNames(stream string) []string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.js.Stream(ctx, stream)
	if err != nil {
		s.t.Fatalf("stream %s: %v", stream, err)
	}
	var names []string
	lister := st.ConsumerNames(ctx)
	for name := range lister.Name() {
		names = append(names, name)
	}
	if err := lister.Err(); err != nil {
		s.t.Fatalf("consumers of %s: %v", stream, err)
	}
	slices.Sort(names)
	return names
}

// streamClient is one stream, over WebSocket or as server-sent events,
// with its TCP connection at hand so that it can be dropped the way a
// vanished client drops it.
type streamClient struct {
	ws  *websocket.Conn
	sse *http.Response
	tcp *net.TCPConn
}

// dialStream opens a WebSocket on path, or with sse a GET of server-sent
// events, with the server's admin token.
func dialStream(ctx context.Context, s *testServer, path string, sse bool) (*streamClient, error) {
	sc := &streamClient{}
	var once sync.Once
	dialer := &net.Dialer{}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err == nil {
			once.Do(func() { sc.tcp = c.(*net.TCPConn) })
		}
		return c, err
	}}}
	auth := http.Header{"Authorization": {"Bearer " + s.token}}
	var err error
	if sse {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.at.API+path, nil)
		req.Header.Set("Accept", "text/event-stream")
		req.Header = auth
		if sc.sse, err = client.Do(req); err == nil && sc.sse.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %s", path, sc.sse.Status)
		}
	} else {
		sc.ws, _, err = websocket.Dial(ctx, wsURL(s, path), &websocket.DialOptions{HTTPClient: client, HTTPHeader: auth})
	}
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// read waits for the stream's next message.
func (sc *streamClient) read(ctx context.Context) error {
	if sc.ws != nil {
		_, _, err := sc.ws.Read(ctx)
		return err
	}
	buf := make([]byte, 1)
	var line []byte
	for { // a byte at a time: nothing of the next event is read ahead
		if _, err := sc.sse.Body.Read(buf); err != nil {
			return err
		}
		if line = append(line, buf[0]); buf[0] != '\n' {
			continue
		}
		if strings.HasPrefix(string(line), "data: ") {
			return nil
		}
		line = line[:0]
	}
}

// leave ends the stream the polite way: a close handshake, or the end of
// the request.
func (sc *streamClient) leave() {
	if sc.ws != nil {
		_ = sc.ws.Close(websocket.StatusNormalClosure, "")
		return
	}
	_ = sc.sse.Body.Close()
}

// drop ends the connection without a word: a reset, as when the client's
// machine goes away.
func (sc *streamClient) drop() {
	_ = sc.tcp.SetLinger(0)
	_ = sc.tcp.Close()
	if sc.ws != nil {
		_ = sc.ws.CloseNow()
	} else {
		_ = sc.sse.Body.Close()
	}
}

// TestStreamsShareTheirReadersAndAreReleased: log and event streams
// (WebSocket or server-sent events) hold no consumer of their own: however
// many are open, the server's streams keep the consumers they had (the
// shared tails among them). Once the clients have gone, after a close
// handshake or a dropped connection alike, the server lets go of the
// goroutines that served them within seconds.
func TestStreamsShareTheirReadersAndAreReleased(t *testing.T) {
	const n = 50
	s := startServer(t, func(c *serverConfig) { c.MaxStreamsPerToken = 3 * n })
	runID := s.waitingRun()
	baseLogs, baseEvents := s.consumerNames("logs"), s.consumerNames("CONVEYOR_EVENTS")
	baseGoroutines := settledGoroutines()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var clients []*streamClient
	for i := range 3 * n {
		path := []string{"/runs/" + runID + "/logs/stream", "/events/stream?runid=" + runID, "/logs/pipeline/" + runID}[i%3]
		c, err := dialStream(ctx, s, path, i%3 == 2)
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		clients = append(clients, c)
	}
	t.Cleanup(func() {
		for _, c := range clients {
			c.drop()
		}
	})
	if _, err := s.js.Publish(ctx, "logs."+runID, []byte(`{"runid":"`+runID+`","driver":"compiler","message":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients { // each stream is live: it sent what there is
		if err := c.read(ctx); err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
	}

	logs, events := s.consumerNames("logs"), s.consumerNames("CONVEYOR_EVENTS")
	t.Logf("open: %d consumers on logs, %d on the event log (%d and %d before); %d goroutines (%d before)",
		len(logs), len(events), len(baseLogs), len(baseEvents), runtime.NumGoroutine(), baseGoroutines)
	if !slices.Equal(logs, baseLogs) || !slices.Equal(events, baseEvents) {
		t.Errorf("%d streams made consumers: logs %v (before %v), event log %v (before %v); want none",
			3*n, without(logs, baseLogs), baseLogs, without(events, baseEvents), baseEvents)
	}
	s.wantOpenStreams(n, n, n)

	for i, c := range clients { // half say goodbye, half vanish
		if i%2 == 0 {
			c.leave()
		} else {
			c.drop()
		}
	}
	started := time.Now()
	goroutines := 0
	for deadline := started.Add(10 * time.Second); ; {
		if goroutines = runtime.NumGoroutine(); goroutines <= baseGoroutines+10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10s after the clients went: %d goroutines (%d before)", goroutines, baseGoroutines)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, kind := range []string{"logs", "events", "sse"} {
		s.waitOpenStreams(kind, 0)
	}
	t.Logf("released in %v: %d goroutines (%d before)", time.Since(started).Round(time.Millisecond), goroutines, baseGoroutines)
}

// wantOpenStreams checks the gauge conveyor_open_streams of each kind.
func (s *testServer) wantOpenStreams(logs, events, sse int) {
	s.t.Helper()
	_, raw := s.callRaw("GET", "/metrics", nil)
	for kind, n := range map[string]int{"logs": logs, "events": events, "sse": sse} {
		if line := fmt.Sprintf("conveyor_open_streams{kind=%q} %d\n", kind, n); !strings.Contains(string(raw), line) {
			s.t.Errorf("metrics lack %q", line)
		}
	}
}

// settledGoroutines counts this process's goroutines once the count has
// stopped falling (goroutines of finished requests take a moment to end).
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 20 {
		time.Sleep(100 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return max(n, m)
		}
		n = m
	}
	return n
}

// without is the names in a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// waitOpenStreams waits up to 30s until the gauge conveyor_open_streams
// of kind says n.
func (s *testServer) waitOpenStreams(kind string, n int) {
	s.t.Helper()
	line := fmt.Sprintf("conveyor_open_streams{kind=%q} %d\n", kind, n)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, raw := s.callRaw("GET", "/metrics", nil); strings.Contains(string(raw), line) {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("after 30s the metrics still lack %q", line)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLogStreamCutOffSurvivesALongStall: a client that reads nothing is
// cut off once it is more than 1,024 lines behind. When it reads again,
// even after a stall longer than a write or a close handshake waits, it
// gets the lines up to the cut-off, then the close 1008 saying why.
func TestLogStreamCutOffSurvivesALongStall(t *testing.T) {
	s := startServer(t, nil)
	runID := s.waitingRun()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(s, "/runs/"+runID+"/logs/stream"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	s.waitOpenStreams("logs", 1)

	// 20,000 lines of 1 KiB: far more than the socket buffers of loopback hold.
	const lines = 20000
	pad := strings.Repeat("x", 1024)
	for i := range lines {
		line := fmt.Sprintf(`{"runid":%q,"driver":"compiler","message":"%d %s"}`, runID, i, pad)
		if _, err := s.js.PublishAsync("logs."+runID, []byte(line)); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 || i == lines-1 { // no more than a thousand unacknowledged
			select {
			case <-s.js.PublishAsyncComplete():
			case <-ctx.Done():
				t.Fatal("the lines were not stored")
			}
		}
	}
	// The server gives up on the client a moment after its queue is full,
	// long before the client, stalling on, reads again.
	time.Sleep(12 * time.Second)

	var last uint64
	n := readUntilTooSlow(ctx, t, c, func(data []byte) {
		var line struct{ Sequence uint64 }
		if err := json.Unmarshal(data, &line); err != nil || line.Sequence <= last {
			t.Fatalf("sequence %d after %d (%v)", line.Sequence, last, err)
		}
		last = line.Sequence
	})
	if n == 0 || n >= lines {
		t.Errorf("the client got %d of %d lines before the close", n, lines)
	}
	t.Logf("cut off after %d lines", n)
}

// waitingRun starts a run that no driver serves: it stays in its first
// step, and its streams stay open until their clients go.
func (s *testServer) waitingRun() string {
	s.t.Helper()
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if status, _ := s.call("GET", "/runs/"+runID, nil); status == http.StatusOK {
			return runID
		}
		if time.Now().After(deadline) {
			s.t.Fatal("the run did not appear")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
