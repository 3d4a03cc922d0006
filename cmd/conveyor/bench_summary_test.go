package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestGoalsAreJudgedAtTheirSizes: the bench judges the runs goal only for
// the 1000 runs it is set for, and the memory goal only near the 16,000
// resources it is set at; at other sizes it prints the figure and says why
// it is not judged, where it once printed "missed".
func TestGoalsAreJudgedAtTheirSizes(t *testing.T) {
	lat := []time.Duration{time.Millisecond}
	verdicts := func(runs, resources int) string {
		s := summary{runs: &runsResult{n: runs, took: 2 * time.Second, idle: lat, loaded: lat}, resources: resources, memory: 300e6}
		var out []string
		for _, r := range s.rows() {
			if strings.Contains(r.scenario, "two-step runs") || strings.HasPrefix(r.scenario, "memory") {
				out = append(out, fmt.Sprint(r.scenario, " | ", r.value))
			}
		}
		return strings.Join(out, "\n")
	}
	small := verdicts(200, 2720)
	for _, want := range []string{"200 two-step runs | 2s: not judged, the goal is for 1000 runs", "memory after 2720 resources | 300 MB: not judged"} {
		if !strings.Contains(small, want) {
			t.Errorf("at 200 runs and 2,720 resources, lacks %q:\n%s", want, small)
		}
	}
	if strings.Contains(small, "missed") {
		t.Errorf("a figure at another size judged:\n%s", small)
	}
	if at := verdicts(1000, 16000); !strings.Contains(at, "1000 two-step runs | 2s: missed") || !strings.Contains(at, "memory after 16000 resources | 300 MB: missed") {
		t.Errorf("at the goals' sizes, not judged:\n%s", at)
	}
}
