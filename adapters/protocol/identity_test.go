package protocol

import (
	"slices"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/domain"
	wire "github.com/conveyor/conveyor/sdk/protocol"
)

// TestLabelLimitsAgree: a step may ask for no more labels, nor longer
// ones, than a driver process may have.
func TestLabelLimitsAgree(t *testing.T) {
	if domain.MaxRunsOn != wire.MaxLabels || domain.MaxLabelLength != wire.MaxLabelLength {
		t.Errorf("steps: %d labels of %d characters; drivers: %d of %d", domain.MaxRunsOn, domain.MaxLabelLength, wire.MaxLabels, wire.MaxLabelLength)
	}
}

// TestDriverPermissionsOfLabels: a process of exec with labels may read and
// acknowledge the consumers of exec for every subset of them, no other;
// labels that break the rule give it none but exec's own.
func TestDriverPermissionsOfLabels(t *testing.T) {
	consumers := func(publish []string) []string {
		var out []string
		for _, p := range publish {
			if c, ok := strings.CutPrefix(p, "$JS.API.CONSUMER.MSG.NEXT.messages."); ok {
				out = append(out, c)
				if !slices.Contains(publish, "$JS.API.CONSUMER.INFO.messages."+c) || !slices.Contains(publish, "$JS.ACK.messages."+c+".>") {
					t.Errorf("consumer %s may be pulled from, but not bound to or acknowledged", c)
				}
			}
		}
		return out
	}
	pub, _ := DriverPermissions("exec", []string{"linux", "gpu"})
	if got := consumers(pub); !slices.Equal(got, []string{"exec", "exec+gpu", "exec+linux", "exec+gpu+linux"}) {
		t.Errorf("exec with gpu and linux may pull from %v", got)
	}
	pub, _ = DriverPermissions("exec", []string{"a", "b", "c", "d", "e"})
	if got := consumers(pub); !slices.Equal(got, []string{"exec"}) {
		t.Errorf("exec with five labels may pull from %v", got)
	}
}

// TestNameRulesAgree: the wire package checks names without the domain
// (it imports nothing of the project), so the two checks of one rule must
// say the same of every name, at its edges too.
func TestNameRulesAgree(t *testing.T) {
	long := strings.Repeat("a", 63)
	for _, name := range []string{"", "a", "a1", "build", "exec-linux", "a_b", "-a", "a-", "_a", "a_", "A", "aB",
		"a.b", "a b", "é", "0", "9z", long, long + "a", "a--b", "a__b", "a+b", "a/b"} {
		if d, w := domain.ValidName(name), wire.ValidName(name); d != w {
			t.Errorf("name %q: domain says %v, the wire package %v", name, d, w)
		}
	}
}
