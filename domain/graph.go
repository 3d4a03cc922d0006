package domain

import (
	"fmt"
	"slices"
	"strings"
)

// A pipeline's steps form a graph: a step runs once every step it needs has
// succeeded, and steps whose needs are met run side by side. A step that
// names no needs (Needs is nil) needs the step before it, so a pipeline
// written as a list runs in order; `needs: []` (empty, not nil) makes a step
// start with the run.

// NeedsOf is the ids of the steps that step i of p needs.
func (p Pipeline) NeedsOf(i int) []string {
	if p.Steps[i].Needs != nil {
		return p.Steps[i].Needs
	}
	if i == 0 {
		return nil
	}
	return []string{p.Steps[i-1].ID}
}

// stepIndexes maps each step id of p to its index.
func (p Pipeline) stepIndexes() map[string]int {
	at := make(map[string]int, len(p.Steps))
	for i, s := range p.Steps {
		if _, dup := at[s.ID]; !dup {
			at[s.ID] = i
		}
	}
	return at
}

// checkNeeds finds needs that name no step, name a step twice, or close a
// cycle. It expects unique step ids.
func checkNeeds(p Pipeline) ValidationErrors {
	var problems ValidationErrors
	at := p.stepIndexes()
	for i, s := range p.Steps {
		seen := make(map[string]bool, len(s.Needs))
		for j, need := range s.Needs {
			field := fmt.Sprintf("steps[%d].needs[%d]", i, j)
			switch _, ok := at[need]; {
			case !ok:
				problems = append(problems, Invalid(field, fmt.Sprintf("names no step of this pipeline: %q", need)))
			case seen[need]:
				problems = append(problems, Invalid(field, fmt.Sprintf("names step %q twice", need)))
			}
			seen[need] = true
		}
	}
	if len(problems) > 0 {
		return problems
	}
	if cycle := findCycle(p, at); cycle != nil {
		i := at[cycle[0]]
		problems = append(problems, Invalid(fmt.Sprintf("steps[%d].needs", i),
			"closes a cycle: "+strings.Join(cycle, " needs ")+"; steps must not need themselves, directly or through others"))
	}
	return problems
}

// findCycle returns the ids of a cycle of needs, its first id repeated at
// the end, or nil when the steps form no cycle.
func findCycle(p Pipeline, at map[string]int) []string {
	const (
		unvisited = iota
		onPath
		finished
	)
	state := make([]int, len(p.Steps))
	var path []string
	var visit func(i int) []string
	visit = func(i int) []string {
		state[i] = onPath
		path = append(path, p.Steps[i].ID)
		for _, need := range p.NeedsOf(i) {
			j := at[need]
			switch state[j] {
			case onPath:
				start := slices.Index(path, need)
				return append(slices.Clone(path[start:]), need)
			case unvisited:
				if c := visit(j); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = finished
		return nil
	}
	for i := range p.Steps {
		if state[i] == unvisited {
			if c := visit(i); c != nil {
				return c
			}
		}
	}
	return nil
}

// ancestors is the set of indexes of the steps that step i needs, directly
// or through others.
func (p Pipeline) ancestors(i int) map[int]bool {
	at := p.stepIndexes()
	found := map[int]bool{}
	var walk func(int)
	walk = func(k int) {
		for _, need := range p.NeedsOf(k) {
			if j, ok := at[need]; ok && !found[j] {
				found[j] = true
				walk(j)
			}
		}
	}
	walk(i)
	return found
}

// dependants is the set of indexes of the steps that need step i, directly
// or through others.
func (p Pipeline) dependants(i int) map[int]bool {
	at := p.stepIndexes()
	needers := make([][]int, len(p.Steps))
	for k := range p.Steps {
		for _, need := range p.NeedsOf(k) {
			if j, ok := at[need]; ok {
				needers[j] = append(needers[j], k)
			}
		}
	}
	found := map[int]bool{}
	var walk func(int)
	walk = func(j int) {
		for _, k := range needers[j] {
			if !found[k] && k != i {
				found[k] = true
				walk(k)
			}
		}
	}
	walk(i)
	return found
}
