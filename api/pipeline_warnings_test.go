package api

import (
	"fmt"
	"strings"
	"testing"
)

// TestWarningHeader: a few warnings are joined as before, so that clients
// splitting on "; " read them; many are cut below the bound and counted.
func TestWarningHeader(t *testing.T) {
	few := []string{"step a: one", "step b: two"}
	if got := warningHeader(few); got != "step a: one; step b: two" {
		t.Errorf("two warnings: %q", got)
	}
	if got := warningHeader(nil); got != "" {
		t.Errorf("none: %q", got)
	}
	for _, n := range []int{100, 1000, 10000} {
		many := make([]string, n)
		for i := range many {
			many[i] = fmt.Sprintf(`step s%d: driver "d%d" has never connected (its runs wait until it does)`, i, i)
		}
		got := warningHeader(many)
		listed := strings.Count(got, "; ")
		if len(got) > maxWarningHeader || listed == 0 ||
			!strings.HasSuffix(got, fmt.Sprintf(`and %d more steps name drivers never connected: see "warnings" in the body`, n-listed)) {
			t.Errorf("%d warnings: %d bytes: %q", n, len(got), got)
		}
	}
}
