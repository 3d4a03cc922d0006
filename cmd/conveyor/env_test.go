package main

import (
	"testing"

	"github.com/conveyor/conveyor/adapters/embedtest"
)

// TestEnvClientVariablesLeaveServerEmbedded: a shell that exports the
// drivers' CONVEYOR_NATS_URL, here pointing nowhere, still starts an
// embedded server, while CONVEYOR_CLUSTER_NATS_URL selects an external NATS.
func TestEnvClientVariablesLeaveServerEmbedded(t *testing.T) {
	args := []string{"--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir()}
	p := startBinary(t, []string{"CONVEYOR_NATS_URL=nats://" + freePort(t)}, args...)
	if want := "nats,etcd"; !embeddedIs(p, want) {
		t.Errorf("with CONVEYOR_NATS_URL exported, want embedded %q:\n%s", want, p.output())
	}
	p.stop(t)

	nats := embedtest.NATS(t, "").ClientURL()
	p = startBinary(t, []string{"CONVEYOR_CLUSTER_NATS_URL=" + nats}, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	if want := "etcd"; !embeddedIs(p, want) {
		t.Errorf("with CONVEYOR_CLUSTER_NATS_URL, want embedded %q:\n%s", want, p.output())
	}
	p.stop(t)
}

// embeddedIs reports whether the ready line of p says it embeds exactly want.
func embeddedIs(p *process, want string) bool {
	m := readyLinePattern.FindStringSubmatch(p.output())
	return m != nil && m[4] == want
}
