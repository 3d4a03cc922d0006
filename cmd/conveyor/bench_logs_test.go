package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestBenchLogScenario runs `conveyor bench --log-lines` at a tiny size:
// every line of both runs is stored (a line refused fails the bench), and
// each figure is printed. Its figures are not checked.
func TestBenchLogScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	out, err := exec.Command(conveyorBinary(t), "bench", "--log-lines", "200").CombinedOutput()
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	for _, run := range []string{"run without secrets", "run granted a secret"} {
		for _, figure := range []string{"lines/s stored", "server CPU per line"} {
			if !slices.ContainsFunc(lines, func(l string) bool {
				return strings.HasPrefix(l, "logs: 200 lines, "+run) && strings.Contains(l, figure)
			}) {
				t.Errorf("bench printed no %q row of the %s:\n%s", figure, run, out)
			}
		}
	}
}
