package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestMemoryIsReturnedOncePerQuietPeriod: memory is handed back on the
// first quiet look after a busy one, when the heap holds enough beyond what
// is live; never while busy, never twice in one quiet period, and not when
// there is little to hand back.
func TestMemoryIsReturnedOncePerQuietPeriod(t *testing.T) {
	const mb = 1 << 20
	var m memoryReturn
	var allocs uint64
	look := func(allocated, held, live uint64) bool {
		allocs += allocated
		return m.due(allocs, held, live)
	}
	if look(mb, 500*mb, 50*mb) {
		t.Error("handed back before any busy interval was seen")
	}
	if look(400*mb, 500*mb, 50*mb) {
		t.Error("handed back while busy")
	}
	if !look(mb, 500*mb, 50*mb) {
		t.Error("not handed back on the first quiet look after a burst")
	}
	if look(mb, 480*mb, 50*mb) {
		t.Error("handed back twice in one quiet period")
	}
	if look(200*mb, 300*mb, 50*mb) {
		t.Error("handed back while busy")
	}
	if look(mb, 100*mb, 50*mb) {
		t.Error("handed back with less than memoryWorthBytes above what is live")
	}
	if look(400*mb, 400*mb, 50*mb) {
		t.Error("handed back while busy")
	}
	if !look(0, 400*mb, 50*mb) {
		t.Error("not handed back after the next burst")
	}
}

// TestServerCollectsAtItsOwnTargetUnlessGOGCSays: the server binary runs
// with serverGCPercent when GOGC is not set, and with GOGC when it is, as
// its /metrics report.
func TestServerCollectsAtItsOwnTargetUnlessGOGCSays(t *testing.T) {
	for _, tc := range []struct {
		gogc string
		want string
	}{{"", fmt.Sprint(serverGCPercent)}, {"100", "100"}} {
		env := []string{"CONVEYOR_ADDR=127.0.0.1:0", "CONVEYOR_NATS_LISTEN=127.0.0.1:0", "CONVEYOR_DATA_DIR=" + t.TempDir()}
		if tc.gogc != "" {
			env = append(env, "GOGC="+tc.gogc)
		}
		cmd := exec.Command(conveyorBinary(t), "server")
		cmd.Env = append(withoutVariable(os.Environ(), "GOGC"), env...)
		p := startProcess(t, cmd, tokenFileOf(nil, env))
		_, metrics := p.client(t, "/conveyor").callRaw("GET", "/metrics", nil)
		if line := "\ngo_gc_gogc_percent " + tc.want + "\n"; !strings.Contains(string(metrics), line) {
			t.Errorf("GOGC=%q: /metrics lack %q", tc.gogc, strings.TrimSpace(line))
		}
		p.stop(t)
	}
}

// withoutVariable is env without the variable name.
func withoutVariable(env []string, name string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
}
