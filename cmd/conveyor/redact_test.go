package main

import (
	"strings"
	"testing"

	"github.com/conveyor/conveyor/adapters/embedtest"
)

// TestCredentialsNeverPrinted gives the server NATS and etcd URLs that carry
// a password and checks that it appears nowhere in what the server prints:
// not in the ready line, not when NATS or etcd cannot be reached.
func TestCredentialsNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-pw"
	nats := strings.TrimPrefix(embedtest.NATS(t, "").ClientURL(), "nats://")
	noSecret := func(what, out string) {
		t.Helper()
		if strings.Contains(out, secret) {
			t.Errorf("%s: the password was printed:\n%s", what, out)
		}
		if !strings.Contains(out, "xxxxx@") {
			t.Errorf("%s: the redacted URL is missing:\n%s", what, out)
		}
	}

	p := startBinary(t, nil, "--log-level", "debug", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(),
		"--nats-url", "nats://conveyor:"+secret+"@"+nats)
	p.stop(t)
	noSecret("ready", p.output())

	out, code := runUntilExit(t, nil, "--log-level", "debug", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(),
		"--nats-url", "nats://conveyor:"+secret+"@"+freePort(t))
	if code == 0 {
		t.Errorf("started without NATS:\n%s", out)
	}
	noSecret("NATS unreachable", out)

	out, code = runUntilExit(t, nil, "--log-level", "debug", "--addr", "127.0.0.1:0",
		"--nats-url", "nats://"+secret+"@"+nats, "--etcd-endpoints", "http://root:"+secret+"@"+freePort(t))
	if code == 0 {
		t.Errorf("started without etcd:\n%s", out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("etcd unreachable: the password was printed:\n%s", out)
	}
}
