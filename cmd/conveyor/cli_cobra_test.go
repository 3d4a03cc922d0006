package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runLine runs a command line in-process and returns its exit code and
// output.
func runLine(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := execute(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestEveryCommandHelpExitsZero walks the whole command tree: -h of every
// command prints its usage and exits 0.
func TestEveryCommandHelpExitsZero(t *testing.T) {
	root, _ := rootCommand(context.Background(), nil, &bytes.Buffer{}, &bytes.Buffer{})
	root.InitDefaultCompletionCmd()
	var walk func(cmd *cobra.Command, path []string)
	count := 0
	walk = func(cmd *cobra.Command, path []string) {
		if cmd.DisableFlagParsing {
			return // parses its own flags: TestCLIHelpExitsZero runs it through the binary
		}
		count++
		code, out, errOut := runLine(append(path, "-h")...)
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("conveyor %s -h: exit %d\n%s%s", strings.Join(path, " "), code, out, errOut)
		}
		for _, sub := range cmd.Commands() {
			walk(sub, append(path[:len(path):len(path)], sub.Name()))
		}
	}
	walk(root, nil)
	if count < 20 {
		t.Errorf("walked %d commands; the tree has more", count)
	}
}

// TestCompletionScripts: bash, zsh and fish scripts from the command tree.
func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errOut := runLine("completion", shell)
		if code != 0 || !strings.Contains(out, "conveyor") || len(out) < 500 {
			t.Errorf("completion %s: exit %d, %d bytes\n%s", shell, code, len(out), errOut)
		}
	}
	code, out, _ := runLine("__complete", "get", "--outp")
	if code != 0 || !strings.Contains(out, "--output") {
		t.Errorf("completion of a flag: exit %d\n%s", code, out)
	}
}

// TestCommandLineMistakes: an unknown flag or command, or a wrong number of
// arguments, is exit 2 with one line saying what, and a hint.
func TestCommandLineMistakes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"runs", "--bogus"}, "conveyor: unknown flag: --bogus\nRun 'conveyor runs --help' for usage.\n"},
		{[]string{"nope"}, "conveyor: unknown command \"nope\" for \"conveyor\"\nRun 'conveyor --help' for usage.\n"},
		{[]string{"run"}, "conveyor: accepts 1 arg(s), received 0\nRun 'conveyor run --help' for usage.\n"},
	} {
		code, _, errOut := runLine(tc.args...)
		if code != exitUsage || errOut != tc.want {
			t.Errorf("conveyor %s: exit %d, stderr %q; want 2, %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}

// TestFlagsAnywhere: flags may come before, between or after the
// positional arguments; here the server flag, wherever it is, decides where
// the client goes.
func TestFlagsAnywhere(t *testing.T) {
	for _, args := range [][]string{
		{"get", "--server", "http://127.0.0.1:1", "runs", "-o", "json"},
		{"get", "runs", "--server", "http://127.0.0.1:1"},
		{"--server", "http://127.0.0.1:1", "get", "runs"},
	} {
		if args[0] == "--server" {
			args = append(args[2:], args[:2]...) // cobra: a command's flags follow the command
		}
		code, _, errOut := runLine(args...)
		if code != exitUnreachable || !strings.Contains(errOut, "server http://127.0.0.1:1 unreachable") {
			t.Errorf("conveyor %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
		}
	}
}
