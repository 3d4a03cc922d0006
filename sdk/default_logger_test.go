package sdk

import (
	"bytes"
	"strings"
	"testing"
)

// TestDefaultLoggerLevels: a driver given no logger writes text at the
// level CONVEYOR_LOG_LEVEL names; info when unset or unknown, nothing at
// all with off.
func TestDefaultLoggerLevels(t *testing.T) {
	for level, want := range map[string][]string{
		"":      {"INFO", "WARN"},
		"bogus": {"INFO", "WARN"},
		"debug": {"DEBUG", "INFO", "WARN"},
		"WARN":  {"WARN"},
		"error": {},
		"off":   {},
	} {
		var buf bytes.Buffer
		log := defaultLogger(&buf, level)
		log.Debug("d")
		log.Info("i")
		log.Warn("w")
		for _, l := range []string{"DEBUG", "INFO", "WARN"} {
			wanted := strings.Contains(strings.Join(want, " "), l)
			if got := strings.Contains(buf.String(), "level="+l); got != wanted {
				t.Errorf("level %q: a %s line written: %v, want %v\n%s", level, l, got, wanted, buf.String())
			}
		}
	}
}
