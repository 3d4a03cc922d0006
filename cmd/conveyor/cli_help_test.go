package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCLIHelpExitsZero: asking any command for its usage is not an error.
func TestCLIHelpExitsZero(t *testing.T) {
	for _, command := range []string{"", "server", "apply", "get", "delete", "runs", "run", "cancel", "retry", "logs",
		"events", "trace", "tokens", "tokens create", "drivers credentials", "ready", "projections",
		"projections rebuild", "projections parked", "projections unpark", "bench", "completion"} {
		args := append(strings.Fields(command), "-h")
		out, err := exec.Command(conveyorBinary(t), args...).CombinedOutput()
		if err != nil || !strings.Contains(strings.ToLower(string(out)), "usage") {
			t.Errorf("conveyor %s -h: %v\n%s", command, err, out)
		}
	}
}
