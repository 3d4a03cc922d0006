package protocol

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/logmask"
)

// BenchmarkMaskLine is what masking costs one line of 1 KiB as the SDK
// writes it, in a run granted one secret (docs/decisions.md quotes it).
// A run with none costs only the Masks question: its lines are stored as
// they came.
func BenchmarkMaskLine(b *testing.B) {
	runs := logmask.NewRuns(func(context.Context, string) ([]string, error) {
		return []string{"hunter2-registry-password"}, nil
	}, logmask.RunsConfig{})
	now := time.Now()
	line, _ := json.Marshal(map[string]any{"runid": "r1", "driver": "compiler", "pipeline": "ci", "timestamp": "1795510841",
		"message": "42 " + strings.Repeat("x", 1024), "labels": map[string]string{}, "time": now.UTC().Format(time.RFC3339Nano),
		"step": "compile", "attempt": 1})
	ctx := context.Background()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := maskLine(ctx, runs, "r1", line); err != nil {
			b.Fatal(err)
		}
	}
}
