package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's sections whose shown output the tests check: the five-minute
// walk-through (TestFirstPipelineWalkthrough) and the Go drivers'
// (TestCLIEndToEnd). A command may appear in both; each is looked up in its
// own.
const (
	walkthroughSection = "## Five-minute walk-through"
	goDriverSection    = "## Your own driver in Go"
)

// readmeSection is the lines of the README's section under heading, up to
// the next heading of its level or above ("# " lines in code blocks are
// comments, not headings).
func readmeSection(t *testing.T, heading string) []string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	level := strings.Index(heading, " ") // "## X" is level 2
	for i, line := range lines {
		if line != heading {
			continue
		}
		code := false
		for j := i + 1; j < len(lines); j++ {
			if strings.HasPrefix(lines[j], "```") {
				code = !code
			}
			n := strings.IndexFunc(lines[j], func(r rune) bool { return r != '#' })
			if !code && n > 0 && n <= level && lines[j][n] == ' ' {
				return lines[i+1 : j]
			}
		}
		return lines[i+1:]
	}
	t.Fatalf("README.md has no section %q", heading)
	return nil
}

// readmeShows is the output the README's section shows under command: the
// "# " lines that follow it in a shell block.
func readmeShows(t *testing.T, section, command string) []string {
	t.Helper()
	lines := readmeSection(t, section)
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
			t.Fatalf("README.md shows no output under %q in %q", command, section)
		}
		return shown
	}
	t.Fatalf("README.md has no line %q in %q", command, section)
	return nil
}

// readmeBlock is the first code block of the README's section fenced with
// fence ("```yaml"), without its fences, each line ending in a newline.
func readmeBlock(t *testing.T, section, fence string) string {
	t.Helper()
	lines := readmeSection(t, section)
	for i, line := range lines {
		if line != fence {
			continue
		}
		var b strings.Builder
		for _, l := range lines[i+1:] {
			if l == "```" {
				return b.String()
			}
			b.WriteString(l + "\n")
		}
	}
	t.Fatalf("README.md has no %s block in %q", fence, section)
	return ""
}

var (
	anyRunID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	anyTime  = regexp.MustCompile(`\b\d\d:\d\d:\d\d\.\d{3}\b`)
)

// sameButIDs is s with its Run IDs and clock times made alike.
func sameButIDs(s string) string {
	return anyTime.ReplaceAllString(anyRunID.ReplaceAllString(s, "RUNID"), "HH:MM:SS.mmm")
}

// checkREADMEShows fails when the README's output under command, in
// section, is not what the CLI printed (got): each shown line, its Run IDs
// and times aside, is a line of got, in the same order; "..." stands for
// any lines.
func checkREADMEShows(t *testing.T, section, command, got string) {
	t.Helper()
	printed := strings.Split(sameButIDs(got), "\n")
	at := 0
	for _, want := range readmeShows(t, section, command) {
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
