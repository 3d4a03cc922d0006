package main

import (
	"testing"

	"github.com/conveyor/conveyor/sdk"
)

// TestPipelineLevels: `get pipelines` shows a graph as its levels, steps
// side by side in brackets, a chain as a chain, and an approval step as
// one.
func TestPipelineLevels(t *testing.T) {
	for name, c := range map[string]struct {
		steps []sdk.Step
		want  string
	}{
		"chain": {[]sdk.Step{{ID: "compile", Driver: "compiler"}, {ID: "upload", Driver: "uploader"}},
			"compile(compiler) -> upload(uploader)"},
		"diamond": {[]sdk.Step{{ID: "checkout", Driver: "shell"}, {ID: "unit", Driver: "shell", Needs: []string{"checkout"}},
			{ID: "lint", Driver: "shell", Needs: []string{"checkout"}}, {ID: "publish", Driver: "shell", Needs: []string{"unit", "lint"}}},
			"checkout(shell) -> [unit(shell), lint(shell)] -> publish(shell)"},
		"approval": {[]sdk.Step{{ID: "build", Driver: "shell"}, {ID: "gate", Type: "approval"}, {ID: "deploy", Driver: "shell"}},
			"build(shell) -> gate(approval) -> deploy(shell)"},
		"two starts": {[]sdk.Step{{ID: "a", Driver: "x", Needs: []string{}}, {ID: "b", Driver: "x", Needs: []string{}}},
			"[a(x), b(x)]"},
	} {
		if got := pipelineLevels(sdk.Pipeline{Name: "p", Steps: c.steps}); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
}
