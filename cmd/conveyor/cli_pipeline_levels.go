package main

import (
	"strings"

	"github.com/conveyor/conveyor/sdk"
)

// pipelineLevels writes a pipeline's steps level by level, as `conveyor
// run` orders them: the steps that start a run, then those that need only
// them, and so on, with the steps of one level, which may run side by side,
// in brackets: "checkout(shell) -> [unit(shell), lint(shell)] ->
// publish(shell)". An approval step shows as id(approval).
func pipelineLevels(p sdk.Pipeline) string {
	depth := stepDepths(p)
	var levels [][]string
	for i, s := range p.Steps {
		for len(levels) <= depth[i] {
			levels = append(levels, nil)
		}
		driver := s.Driver
		if driver == "" {
			driver = "approval"
		}
		levels[depth[i]] = append(levels[depth[i]], s.ID+"("+driver+")")
	}
	out := make([]string, len(levels))
	for i, level := range levels {
		out[i] = level[0]
		if len(level) > 1 {
			out[i] = "[" + strings.Join(level, ", ") + "]"
		}
	}
	return strings.Join(out, " -> ")
}
