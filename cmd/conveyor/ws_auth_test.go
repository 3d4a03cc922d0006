package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWebSocketTokenInSubprotocol: a browser cannot set headers on a
// WebSocket, so a stream accepts the token among the handshake's
// subprotocols (conveyor.bearer.BASE64URL beside conveyor.v1). A good
// token opens the stream and the server selects conveyor.v1, never echoing
// the token; a wrong one, one that is not base64url, or none is refused
// with 401 like any request.
func TestWebSocketTokenInSubprotocol(t *testing.T) {
	s := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The tests' default transport adds the admin token; this dial must not.
	dial := func(protocols ...string) (*websocket.Conn, *http.Response, error) {
		return websocket.Dial(ctx, wsURL(s, "/events/stream"), &websocket.DialOptions{Subprotocols: protocols,
			HTTPClient: &http.Client{Transport: withoutToken}})
	}
	encode := func(secret string) string {
		return "conveyor.bearer." + base64.RawURLEncoding.EncodeToString([]byte(secret))
	}

	c, resp, err := dial("conveyor.v1", encode(s.token))
	if err != nil {
		t.Fatalf("the admin token in the subprotocol: %v (%v)", err, resp)
	}
	if got := c.Subprotocol(); got != "conveyor.v1" {
		t.Errorf("selected subprotocol %q, want conveyor.v1", got)
	}
	// The stream works: the log holds at least the admin token's creation.
	if _, msg, err := c.Read(ctx); err != nil || len(msg) == 0 {
		t.Errorf("first event: %q, %v", msg, err)
	}
	c.Close(websocket.StatusNormalClosure, "")

	for name, protocols := range map[string][]string{
		"a wrong token":      {"conveyor.v1", encode("cvy_not-a-token-of-this-server-000000000")},
		"not base64url":      {"conveyor.v1", "conveyor.bearer.!!"},
		"no token":           {"conveyor.v1"},
		"the token in clear": {"conveyor.v1", "conveyor.bearer." + s.token},
	} {
		_, resp, err := dial(protocols...)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Errorf("%s: status %d, err %v; want 401", name, status, err)
		}
	}
}
