package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDeployHealthCheckCommand: `conveyor ready`, the health check of the
// image, exits 0 only when /ready answers 200, and says why otherwise.
func TestDeployHealthCheckCommand(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ready" {
			http.NotFound(w, r)
			return
		}
		if status != http.StatusOK {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			w.Write([]byte(`{"title":"Service Unavailable","status":503,"detail":"nats: not reachable"}`))
			return
		}
		w.Write([]byte(`{"status":"ready"}`))
	}))
	unreachable := httptest.NewServer(http.NotFoundHandler())
	unreachable.Close()
	for _, tc := range []struct {
		name, server string
		status       int
		want         int
		stderr       string
	}{
		{"ready", srv.URL, http.StatusOK, exitOK, ""},
		{"not ready", srv.URL, http.StatusServiceUnavailable, exitFailed, "nats: not reachable"},
		{"no server", unreachable.URL, http.StatusOK, exitUnreachable, "unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status = tc.status
			var stdout, stderr bytes.Buffer
			code := runClient(context.Background(), "ready", []string{"--server", tc.server}, strings.NewReader(""), &stdout, &stderr)
			if code != tc.want {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tc.stderr)
			}
		})
	}
}
