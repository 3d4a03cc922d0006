package domain

import (
	"fmt"
	"slices"
	"strings"
)

// A step's runsOn names the labels a process of its driver must have to
// take it. The limits are the driver side's too (sdk/protocol's MaxLabels
// and MaxLabelLength): a process takes the work of every subset of its
// labels, each through a consumer of its own.
const (
	// MaxRunsOn bounds the labels of a step.
	MaxRunsOn = 4
	// MaxLabelLength bounds a label.
	MaxLabelLength = 32
)

// LabelRule states, in words, the rule every label must follow.
var LabelRule = fmt.Sprintf("must be 1 to %d characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit", MaxLabelLength)

// RunsOn is the sorted label set step of the run runs on; nil for a step
// that runs on any process of its driver.
func (r Run) RunsOn(step string) []string {
	i := r.stepIndex(step)
	if i < 0 || len(r.Pipeline.Steps) != len(r.Steps) || len(r.Pipeline.Steps[i].RunsOn) == 0 {
		return nil
	}
	labels := slices.Clone(r.Pipeline.Steps[i].RunsOn)
	slices.Sort(labels)
	return labels
}

// DescribeLabels is labels as a reader sees them: "gpu, linux".
func DescribeLabels(labels []string) string { return strings.Join(labels, ", ") }

// checkRunsOn checks the labels of each step's runsOn: names of at most
// MaxLabelLength, none twice, at most MaxRunsOn, and none on a step that
// runs no driver.
func checkRunsOn(p Pipeline) ValidationErrors {
	var problems ValidationErrors
	for i, s := range p.Steps {
		field := fmt.Sprintf("steps[%d].runsOn", i)
		if s.Type == StepTypeApproval && len(s.RunsOn) > 0 {
			problems = append(problems, Invalid(field, "must be absent: a step of type approval runs no driver"))
			continue
		}
		if len(s.RunsOn) > MaxRunsOn {
			problems = append(problems, Invalid(field, fmt.Sprintf("holds %d labels; at most %d", len(s.RunsOn), MaxRunsOn)))
		}
		for j, label := range s.RunsOn {
			f := fmt.Sprintf("%s[%d]", field, j)
			switch {
			case len(label) > MaxLabelLength || !ValidName(label):
				problems = append(problems, Invalid(f, LabelRule))
			case slices.Contains(s.RunsOn[:j], label):
				problems = append(problems, Invalid(f, fmt.Sprintf("names label %q twice", label)))
			}
		}
	}
	return problems
}
