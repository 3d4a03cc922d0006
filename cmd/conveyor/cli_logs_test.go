package main

import (
	"strings"
	"testing"
	"time"
)

// TestLogsFollowUnknownRun: following a run that does not exist says so at
// once, rather than after the stream's handshake times out.
func TestLogsFollowUnknownRun(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	const id = "00000000-0000-4000-8000-000000000000"
	started := time.Now()
	code, out, errOut := cliRun(t, server, "", "logs", id, "-f")
	took := time.Since(started)
	if want := "conveyor: logs " + id + ": run " + id + " not found\n"; code != 1 || errOut != want || out != "" {
		t.Errorf("logs -f of an unknown run: exit %d, stdout %q, stderr %q; want exit 1, stderr %q", code, out, errOut, want)
	}
	if took > 2*time.Second {
		t.Errorf("logs -f of an unknown run took %v; want an answer at once", took)
	}
	if strings.Contains(errOut, "handshake") {
		t.Errorf("stderr names the stream's handshake: %q", errOut)
	}
}
