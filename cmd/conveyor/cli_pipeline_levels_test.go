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
		"diamond": {[]sdk.Step{{ID: "checkout", Driver: "exec"}, {ID: "unit", Driver: "exec", Needs: []string{"checkout"}},
			{ID: "lint", Driver: "exec", Needs: []string{"checkout"}}, {ID: "publish", Driver: "exec", Needs: []string{"unit", "lint"}}},
			"checkout(exec) -> [unit(exec), lint(exec)] -> publish(exec)"},
		"approval": {[]sdk.Step{{ID: "build", Driver: "exec"}, {ID: "gate", Type: "approval"}, {ID: "deploy", Driver: "exec"}},
			"build(exec) -> gate(approval) -> deploy(exec)"},
		"two starts": {[]sdk.Step{{ID: "a", Driver: "x", Needs: []string{}}, {ID: "b", Driver: "x", Needs: []string{}}},
			"[a(x), b(x)]"},
	} {
		if got := pipelineLevels(sdk.Pipeline{Name: "p", Steps: c.steps}); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
}
