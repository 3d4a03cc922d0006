package protocol

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLabelSubsets: a process takes the work of every subset of its labels,
// each joined in sorted order, the empty set first.
func TestLabelSubsets(t *testing.T) {
	for _, tc := range []struct {
		labels []string
		want   []string
	}{
		{nil, []string{""}},
		{[]string{"linux"}, []string{"", "linux"}},
		{[]string{"linux", "gpu"}, []string{"", "gpu", "linux", "gpu+linux"}},
		{[]string{"c", "a", "b"}, []string{"", "a", "b", "a+b", "c", "a+c", "b+c", "a+b+c"}},
	} {
		if diff := cmp.Diff(tc.want, LabelSubsets(tc.labels)); diff != "" {
			t.Errorf("LabelSubsets(%v) (-want +got):\n%s", tc.labels, diff)
		}
	}
	if got := len(LabelSubsets([]string{"a", "b", "c", "d"})); got != 16 {
		t.Errorf("four labels make %d subsets", got)
	}
}

// TestCheckLabels: labels follow the rule of names, at most 32 characters,
// none twice, at most four.
func TestCheckLabels(t *testing.T) {
	for _, ok := range [][]string{nil, {"linux"}, {"gpu", "linux", "x86_64", "big-disk"}, {strings.Repeat("a", MaxLabelLength)}} {
		if err := CheckLabels(ok); err != nil {
			t.Errorf("CheckLabels(%v): %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"GPU":                                 "lower-case",
		"gpu+linux":                           "lower-case",
		"-gpu":                                "lower-case",
		"gpu,gpu":                             "twice",
		"a,b,c,d,e":                           "at most 4",
		strings.Repeat("a", MaxLabelLength+1): "1 to 32",
	} {
		if err := CheckLabels(strings.Split(bad, ",")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckLabels(%s): %v, want an error saying %q", bad, err, want)
		}
	}
}

// TestLabelledNames: the subjects, consumer and connection names of a label
// set, which NATS must take (a consumer name of at most 255 characters,
// without '.', '*', '>' or spaces), and which split back into the driver
// and its labels.
func TestLabelledNames(t *testing.T) {
	if got := StepWorkSubject("exec", "", "build"); got != "drivers.exec.resources.build" {
		t.Errorf("unlabelled subject: %s", got)
	}
	if got := StepWorkSubject("exec", LabelSet([]string{"linux", "gpu"}), "build"); got != "drivers.exec.on.gpu+linux.resources.build" {
		t.Errorf("labelled subject: %s", got)
	}
	if diff := cmp.Diff([]string{"drivers.exec.on.gpu.resources.a", "drivers.exec.on.gpu.resources.b"}, WorkFilters("exec", "gpu", []string{"a", "b"})); diff != "" {
		t.Errorf("filters of a label set (-want +got):\n%s", diff)
	}
	long := strings.Repeat("d", 63)
	labels := []string{strings.Repeat("a", 32), strings.Repeat("b", 32), strings.Repeat("c", 32), strings.Repeat("e", 32)}
	name := ConsumerName(long, LabelSet(labels))
	if len(name) > 255 || strings.ContainsAny(name, ".*> \t/\\") {
		t.Errorf("the longest consumer name is not one NATS takes: %d characters, %q", len(name), name)
	}
	if ConsumerName("exec", "") != "exec" || ConsumerDriver("exec+gpu+linux") != "exec" || ConsumerDriver("exec") != "exec" {
		t.Error("a consumer's name does not name its driver")
	}
	conn := ConnectionName("exec", []string{"linux", "gpu"})
	if conn != "conveyor-driver-exec+gpu+linux" || ConnectionName("exec", nil) != "conveyor-driver-exec" {
		t.Errorf("connection names: %s", conn)
	}
	if diff := cmp.Diff([]string{"gpu", "linux"}, ConnectionLabels(conn, "exec")); diff != "" {
		t.Errorf("labels of the connection (-want +got):\n%s", diff)
	}
	for _, other := range []string{"exe", "exec-2", "other"} {
		if got := ConnectionLabels(conn, other); got != nil {
			t.Errorf("the connection of exec declares labels %v for %s", got, other)
		}
	}
}
