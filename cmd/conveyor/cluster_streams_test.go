package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestClusterRevocationEndsStreamsEverywhere: a token revoked through one
// replica loses its streams on another within seconds: that replica hears
// of the revocation from the log, and its next sweep of the open streams
// closes them with the reason.
func TestClusterRevocationEndsStreamsEverywhere(t *testing.T) {
	natsURL, etcd := clusterEnv(t)
	dir := t.TempDir()
	prefix := fmt.Sprintf("/conveyor-test-%d", time.Now().UnixNano())
	name := fmt.Sprintf("watch-%d", time.Now().UnixNano()%1e6)
	tokenFile := providedAdminToken(t)
	args := func() []string {
		return []string{"--addr", "127.0.0.1:0", "--data-dir", dir, "--nats-url", natsURL,
			"--etcd-endpoints", etcd, "--etcd-prefix", prefix, "--admin-token-file", tokenFile}
	}
	a, b := startReplica(t, args()...), startReplica(t, args()...)
	defer a.stop(t)
	defer b.stop(t)
	_, _, issued := send(t, "POST", a.at.API+"/tokens", map[string]any{"name": name, "role": "viewer"})
	secret, _ := issued["token"].(string)
	waitStatus(t, b.at.API+"/me", "Bearer "+secret, http.StatusOK)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, _, err := dialAs(ctx, a.client(t, prefix), secret, "/events/stream?type=TokenRevoked.v1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	closed := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				closed <- err
				return
			}
		}
	}()
	revoked := time.Now()
	if status, _, body := send(t, "DELETE", b.at.API+"/tokens/"+name, nil); status != http.StatusOK {
		t.Fatalf("revoke on replica b: %d %v", status, body)
	}
	select {
	case err := <-closed:
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "revoked") {
			t.Errorf("the stream on replica a ended with %v, want a policy-violation close saying the token was revoked", err)
		}
		t.Logf("the stream on replica a closed %v after the revocation on replica b", time.Since(revoked).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("the stream on replica a was still open 10s after the revocation on replica b")
	}
}
