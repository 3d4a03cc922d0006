package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestRevokedTokenLosesItsStreams: the event stream, the log stream and
// the server-sent log events a token opened end within seconds of its
// revocation, the WebSockets with a policy-violation close that says why,
// while a stream of another token goes on.
func TestRevokedTokenLosesItsStreams(t *testing.T) {
	s := startServer(t, nil)
	runID := s.waitingRun()
	viewer, other := s.issue("watcher", "viewer"), s.issue("bystander", "viewer")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	type closed struct {
		what string
		err  error
		at   time.Time
	}
	ends := make(chan closed, 3)
	follow := func(what string, c *websocket.Conn) {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				ends <- closed{what, err, time.Now()}
				return
			}
		}
	}
	for _, path := range []string{"/events/stream", "/runs/" + runID + "/logs/stream"} {
		c, _, err := dialAs(ctx, s, viewer, path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer c.CloseNow()
		go follow(path, c)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", s.at.API+"/logs/pipeline/"+runID, nil)
	req.Header.Set("Authorization", "Bearer "+viewer)
	sse, err := (&http.Client{Transport: withoutToken}).Do(req)
	if err != nil || sse.StatusCode != http.StatusOK {
		t.Fatalf("server-sent events: %v %v", sse, err)
	}
	defer sse.Body.Close()
	go func() {
		tail, _ := io.ReadAll(sse.Body)
		ends <- closed{"server-sent events", errors.New(strings.TrimSpace(string(tail))), time.Now()}
	}()
	bystander, _, err := dialAs(ctx, s, other, "/events/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer bystander.CloseNow()
	s.waitOpenStreams("events", 2)
	s.waitOpenStreams("logs", 1)
	s.waitOpenStreams("sse", 1)

	revoked := time.Now()
	s.must(http.StatusOK, "DELETE", "/tokens/watcher", nil)
	for range 3 {
		select {
		case end := <-ends:
			t.Logf("%s closed %v after the revocation: %v", end.what, end.at.Sub(revoked).Round(time.Millisecond), end.err)
			if end.at.Sub(revoked) > 10*time.Second {
				t.Errorf("%s closed only %v after the revocation", end.what, end.at.Sub(revoked))
			}
			var ce websocket.CloseError
			switch {
			case end.what == "server-sent events":
				if !strings.Contains(end.err.Error(), "revoked") {
					t.Errorf("server-sent events ended with %q, want a comment saying the token was revoked", end.err)
				}
			case !errors.As(end.err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "revoked"):
				t.Errorf("%s ended with %v, want a policy-violation close saying the token was revoked", end.what, end.err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a stream of the revoked token was still open 10s after the revocation")
		}
	}
	s.waitOpenStreams("events", 1) // the bystander's
	if status, _, _ := s.callAs(viewer, "GET", "/me", nil); status != http.StatusUnauthorized {
		t.Errorf("the revoked token answers %d, want 401", status)
	}
}
