package protocol

import (
	"fmt"
	"slices"
	"strings"
)

// Labels route a pipeline step to the processes of its driver that have
// all of the step's labels (the step's runsOn). A process with labels L
// takes the work of every subset of L, each subset through a durable
// consumer of its own; 2^len(L) consumers, hence MaxLabels.
const (
	// MaxLabels bounds the labels of a driver process and of a step.
	MaxLabels = 4
	// MaxLabelLength bounds a label: a consumer name holds the driver's
	// name and MaxLabels labels, and NATS takes names of at most 255
	// characters.
	MaxLabelLength = 32
	// LabelSeparator joins a sorted label set into one subject token and
	// a consumer name. Names never hold it, so a joined set splits back.
	LabelSeparator = "+"
)

// CheckLabels says what is wrong with labels, all of it: each follows the
// rule of names and is at most MaxLabelLength long, none is repeated, and
// there are at most MaxLabels.
func CheckLabels(labels []string) error {
	var problems []string
	if len(labels) > MaxLabels {
		problems = append(problems, fmt.Sprintf("at most %d labels, not %d", MaxLabels, len(labels)))
	}
	for i, l := range labels {
		switch {
		case !validLabel(l):
			problems = append(problems, fmt.Sprintf("label %q must be 1 to %d lower-case letters, digits, '-' or '_', starting and ending with a letter or digit", l, MaxLabelLength))
		case slices.Contains(labels[:i], l):
			problems = append(problems, fmt.Sprintf("label %q is given twice", l))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

func validLabel(s string) bool { return validToken(s, MaxLabelLength) }

// LabelSet is labels sorted, joined by LabelSeparator: gpu+linux. The
// empty set is "".
func LabelSet(labels []string) string {
	sorted := slices.Clone(labels)
	slices.Sort(sorted)
	return strings.Join(slices.Compact(sorted), LabelSeparator)
}

// LabelSubsets are the label sets a process with labels takes work for:
// every subset of them, the empty set first, each as LabelSet joins it.
func LabelSubsets(labels []string) []string {
	sorted := slices.Clone(labels)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	out := make([]string, 0, 1<<len(sorted))
	for mask := range 1 << len(sorted) {
		var subset []string
		for i, l := range sorted {
			if mask&(1<<i) != 0 {
				subset = append(subset, l)
			}
		}
		out = append(out, strings.Join(subset, LabelSeparator))
	}
	return out
}

// ConsumerName is the durable consumer on MessagesStream of driver for the
// work of the label set (LabelSet): the driver's name for the empty set,
// else driver+set (exec+gpu+linux).
func ConsumerName(driver, set string) string {
	if set == "" {
		return driver
	}
	return driver + LabelSeparator + set
}

// ConsumerDriver is the driver a consumer on MessagesStream belongs to.
func ConsumerDriver(consumer string) string {
	driver, _, _ := strings.Cut(consumer, LabelSeparator)
	return driver
}

// WorkFilters are what the consumer of driver for the label set filters,
// for each resource type: for the empty set the fan-out subject and the
// unlabelled step subject, for another set its step subject alone (a
// fan-out reaches a driver once, through its unlabelled consumer).
func WorkFilters(driver, set string, resources []string) []string {
	var out []string
	for _, r := range resources {
		if set == "" {
			out = append(out, FanOutSubject(r))
		}
		out = append(out, StepWorkSubject(driver, set, r))
	}
	return out
}

// connectionPrefix starts the NATS connection name of a driver process.
const connectionPrefix = "conveyor-driver-"

// ConnectionName is the NATS connection name of a process of driver with
// labels: conveyor-driver-{driver}, with +{set} for labels
// (conveyor-driver-exec+gpu+linux). The server reads the labels from it
// when it grants a driver's credentials the consumers of its label sets.
func ConnectionName(driver string, labels []string) string {
	return connectionPrefix + ConsumerName(driver, LabelSet(labels))
}

// ConnectionLabels are the labels a connection named name declares for
// driver; nil when the name is not driver's or declares none.
func ConnectionLabels(name, driver string) []string {
	rest, ok := strings.CutPrefix(name, connectionPrefix+driver+LabelSeparator)
	if !ok {
		return nil
	}
	return strings.Split(rest, LabelSeparator)
}
