package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// readmeShows is the output the README's walk-through shows under command:
// the "# " lines that follow it in a shell block.
func readmeShows(t *testing.T, command string) []string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		if strings.TrimSpace(line) != command {
			continue
		}
		var shown []string
		for _, l := range lines[i+1:] {
			if !strings.HasPrefix(l, "#") {
				break
			}
			shown = append(shown, strings.TrimPrefix(strings.TrimPrefix(l, "#"), " "))
		}
		if len(shown) == 0 {
			t.Fatalf("README.md shows no output under %q", command)
		}
		return shown
	}
	t.Fatalf("README.md has no line %q", command)
	return nil
}

var (
	anyRunID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	anyTime  = regexp.MustCompile(`\b\d\d:\d\d:\d\d\.\d{3}\b`)
)

// sameButIDs is s with its Run IDs and clock times made alike.
func sameButIDs(s string) string {
	return anyTime.ReplaceAllString(anyRunID.ReplaceAllString(s, "RUNID"), "HH:MM:SS.mmm")
}

// checkREADMEShows fails when the README's output under command is not
// what the CLI printed (got): each shown line, its Run IDs and times aside,
// is a line of got, in the same order; "..." stands for any lines.
func checkREADMEShows(t *testing.T, command, got string) {
	t.Helper()
	printed := strings.Split(sameButIDs(got), "\n")
	at := 0
	for _, want := range readmeShows(t, command) {
		if want == "..." {
			continue
		}
		want = sameButIDs(want)
		for at < len(printed) && printed[at] != want {
			at++
		}
		if at == len(printed) {
			t.Errorf("README.md shows under %q the line\n%q\nwhich the CLI did not print (in that order); it printed:\n%s", command, want, got)
			return
		}
		at++
	}
}
