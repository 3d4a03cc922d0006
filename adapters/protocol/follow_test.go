package protocol

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/conveyor/conveyor/projections"
)

// TestFollowLogsEndsWithTheLastLine: once the run has ended, a follow of
// its lines hands over every stored line of the run after its start, none
// of another run's, then ends; and it leaves no consumer behind.
func TestFollowLogsEndsWithTheLastLine(t *testing.T) {
	nc, js := logStreams(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	storeLogs(t, nc, noSecrets{})
	const run, other = "6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a11", "0b9d3a52-96a1-4f56-8f3e-3c1f1e7b2c22"
	for i := range 6 {
		for _, r := range []string{run, other} {
			line := fmt.Sprintf(`{"runid":%q,"driver":"compiler","message":"%d"}`, r, i)
			if _, err := js.Publish(ctx, "logs."+r, []byte(line)); err != nil {
				t.Fatal(err)
			}
		}
	}
	reader := NewLogReader(js)
	for _, c := range []struct {
		after uint64
		want  string
	}{{0, "[0 1 2 3 4 5]"}, {5, "[3 4 5]"}, {10, "[5]"}, {11, "[]"}} { // the run's lines are at 1, 3, ... 11
		got := []string{}
		err := reader.FollowLogs(ctx, run, c.after, func(l projections.LogLine) error {
			got = append(got, l.Message)
			return nil
		}, func() bool { return true })
		if err != nil || fmt.Sprint(got) != c.want {
			t.Errorf("after %d: %v, %v; want %s", c.after, got, err, c.want)
		}
	}
	stream, err := js.Stream(ctx, LogsStream)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := stream.Info(ctx); err != nil || info.State.Consumers != 0 {
		t.Errorf("consumers left on logs: %v (%v)", info.State.Consumers, err)
	}
}
