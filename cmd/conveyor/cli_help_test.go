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

// TestServerFlagsShowTheirTypeOnly: each flag of `conveyor server -h` shows
// its name and at most its type. The flag package takes a back-quoted word
// of a usage string for the argument's name ("-nats-auth conveyor drivers
// credentials" once), which reads as if the flag took those words.
func TestServerFlagsShowTheirTypeOnly(t *testing.T) {
	var usage strings.Builder
	_, _ = parseServerFlags([]string{"-h"}, func(string) string { return "" }, &usage)
	types := map[string]bool{"string": true, "int": true, "uint": true, "int64": true, "uint64": true, "float": true, "duration": true, "value": true}
	flags := 0
	for _, line := range strings.Split(usage.String(), "\n") {
		if !strings.HasPrefix(line, "  -") {
			continue
		}
		flags++
		if words := strings.Fields(line); len(words) > 2 || len(words) == 2 && !types[words[1]] {
			t.Errorf("flag line %q: want the name and at most its type", line)
		}
	}
	if flags < 10 {
		t.Fatalf("found %d flags in the usage:\n%s", flags, usage.String())
	}
}
