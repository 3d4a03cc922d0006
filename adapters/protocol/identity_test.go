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
