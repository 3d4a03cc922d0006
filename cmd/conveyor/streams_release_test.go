package main

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"slices"
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

// streamClient is one WebSocket stream, with its TCP connection at hand so
// that it can be dropped the way a vanished client drops it.
type streamClient struct {
	ws  *websocket.Conn
	tcp *net.TCPConn
}

// dialStream opens a WebSocket on path with the server's admin token.
func dialStream(ctx context.Context, s *testServer, path string) (*streamClient, error) {
	sc := &streamClient{}
	var once sync.Once
	dialer := &net.Dialer{}
	transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err == nil {
			once.Do(func() { sc.tcp = c.(*net.TCPConn) })
		}
		return c, err
	}}
	ws, _, err := websocket.Dial(ctx, wsURL(s, path), &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: transport},
		HTTPHeader: http.Header{"Authorization": {"Bearer " + s.token}},
	})
	if err != nil {
		return nil, err
	}
	sc.ws = ws
	return sc, nil
}

// drop ends the connection without a close handshake: a reset, as when the
// client's machine goes away.
func (sc *streamClient) drop() {
	_ = sc.tcp.SetLinger(0)
	_ = sc.tcp.Close()
	_ = sc.ws.CloseNow()
}

// TestStreamsReleaseTheirConsumers: every log and event stream holds one
// server-side consumer for as long as its client is there, whatever the
// stream does meanwhile, and the server lets go of it, and of the
// goroutines that served it, once the client has gone: after a close
// handshake or a dropped connection alike.
func TestStreamsReleaseTheirConsumers(t *testing.T) {
	const n = 50
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	// No driver runs: the run waits in its first step, and its streams stay open.
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if status, _ := s.call("GET", "/runs/"+runID, nil); status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run did not appear")
		}
		time.Sleep(20 * time.Millisecond)
	}
	baseLogs, baseEvents := s.consumerNames("logs"), s.consumerNames("CONVEYOR_EVENTS")
	baseGoroutines := settledGoroutines()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var clients []*streamClient
	for i := range 2 * n {
		path := "/runs/" + runID + "/logs/stream"
		if i%2 == 1 {
			path = "/events/stream?runid=" + runID
		}
		c, err := dialStream(ctx, s, path)
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		clients = append(clients, c)
	}
	t.Cleanup(func() {
		for _, c := range clients {
			_ = c.ws.CloseNow()
		}
	})
	if _, err := s.js.Publish(ctx, "logs."+runID, []byte(`{"runid":"`+runID+`","driver":"compiler","message":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients { // each stream is live: it sent what there is
		if _, _, err := c.ws.Read(ctx); err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
	}

	// While the clients wait, each stream keeps the one consumer it made.
	logs, events := s.consumerNames("logs"), s.consumerNames("CONVEYOR_EVENTS")
	time.Sleep(2 * time.Second)
	logsLater, eventsLater := s.consumerNames("logs"), s.consumerNames("CONVEYOR_EVENTS")
	t.Logf("open: %d consumers on logs, %d on the event log (%d before); %d goroutines (%d before)",
		len(logs), len(events), len(baseEvents), runtime.NumGoroutine(), baseGoroutines)
	if len(logs)-len(baseLogs) != n || !slices.Equal(logs, logsLater) {
		t.Errorf("%d log streams held %d consumers, then %d (%d of them new): want one each, kept",
			n, len(logs)-len(baseLogs), len(logsLater)-len(baseLogs), len(without(logsLater, logs)))
	}
	if len(events)-len(baseEvents) != n || !slices.Equal(events, eventsLater) {
		t.Errorf("%d event streams held %d consumers, then %d (%d of them new): want one each, kept",
			n, len(events)-len(baseEvents), len(eventsLater)-len(baseEvents), len(without(eventsLater, events)))
	}

	for i, c := range clients { // half say goodbye, half vanish
		if i%4 < 2 {
			_ = c.ws.Close(websocket.StatusNormalClosure, "")
		} else {
			c.drop()
		}
	}
	started := time.Now()
	var leftLogs, leftEvents []string
	goroutines := 0
	for deadline := started.Add(15 * time.Second); ; {
		leftLogs, leftEvents = without(s.consumerNames("logs"), baseLogs), without(s.consumerNames("CONVEYOR_EVENTS"), baseEvents)
		goroutines = runtime.NumGoroutine()
		if len(leftLogs) == 0 && len(leftEvents) == 0 && goroutines <= baseGoroutines+10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("15s after the clients went: %d log and %d event consumers left, %d goroutines (%d before)",
				len(leftLogs), len(leftEvents), goroutines, baseGoroutines)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("released in %v: %d goroutines (%d before)", time.Since(started).Round(time.Millisecond), goroutines, baseGoroutines)
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
