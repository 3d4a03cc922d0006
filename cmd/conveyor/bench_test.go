package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBenchRunsEveryScenario runs `conveyor bench` at a tiny size: it
// measures the machine's ceilings, starts its own server, goes through every
// scenario and prints a row for each, then each figure that has a goal
// beside it.
// Its figures are not checked: timing stays out of pass/fail tests.
func TestBenchRunsEveryScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	out, err := exec.Command(conveyorBinary(t), "bench", "--creates", "5", "--runs", "5", "--fanout-runs", "5", "--fill", "5").CombinedOutput()
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	for _, want := range []string{
		"ceiling: guarded publish, concurrency 1", "ceiling: guarded publish, concurrency 64",
		"ceiling: bare HTTP create, concurrency 1", "ceiling: bare HTTP create, concurrency 64", "ceiling: bare read of 50000 messages",
		"start-up", "create, concurrency 1", "create, concurrency 64", "5 two-step runs",
		"step-to-step, idle", "step-to-step, under load", "fill: 5 more resources",
		"memory after 50 resources", "5 fan-out/fan-in runs (1 → 10 → 1)", "fan-in: last of ten results → join", "replay: GET /events over", "rebuild:", "memory at the end",
		"goals", "p50 ≤ 0.45ms", "creates/s ≥ 7000", "creates/s ≥ 11000", "last step's work ≤ 0.5s",
		"p50 ≤ 5ms", "p50 ≤ 1ms", "resident set ≤ 100 MB", "events/s ≥ 200000", "(bare HTTP", "(bare read",
		"replay: the rebuild's", "until the new generation serves ≤ 30s",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("bench printed no %q row:\n%s", want, out)
		}
	}
}
