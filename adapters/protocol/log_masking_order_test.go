package protocol

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lines are masked by several workers at once, a run's lines by one of
// them: a burst of lines of several runs, published without waiting for
// each acknowledgement, is stored with every run's lines in the order they
// were published; a run with nothing to mask has its lines stored byte for
// byte as they came, a run with secrets has them masked.
func TestABurstOfLinesIsStoredInOrderPerRun(t *testing.T) {
	nc, js := logStreams(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	storeLogs(t, nc, maskedRuns{"masked-1": true, "masked-2": true})
	runs := []string{"plain-1", "plain-2", "masked-1", "masked-2"}
	const lines = 500
	var acks []jetstream.PubAckFuture
	for i := range lines {
		for _, run := range runs {
			// Spaces and the key order are kept only where nothing is masked.
			line := fmt.Sprintf(`{"runid": %q, "message": "%d s3cret"}`, run, i)
			ack, err := js.PublishAsync("logs."+run, []byte(line))
			if err != nil {
				t.Fatal(err)
			}
			acks = append(acks, ack)
		}
	}
	for _, ack := range acks {
		select {
		case <-ack.Ok():
		case err := <-ack.Err():
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatal("no acknowledgement")
		}
	}
	stream, err := js.Stream(ctx, LogsStream)
	if err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	for seq := uint64(1); seq <= uint64(lines*len(runs)); seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		run := strings.TrimPrefix(m.Subject, "logs.")
		i := next[run]
		next[run]++
		want := fmt.Sprintf(`{"runid": %q, "message": "%d s3cret"}`, run, i)
		if strings.HasPrefix(run, "masked") {
			want = fmt.Sprintf(`{"message":"%d ***","runid":%q}`, i, run)
		}
		if string(m.Data) != want {
			t.Fatalf("line %d of %s stored as %s, want %s", i, run, m.Data, want)
		}
	}
}

// maskedRuns masks "s3cret" in the lines of the runs it holds; the others
// have nothing to mask.
type maskedRuns map[string]bool

func (r maskedRuns) Line(_ context.Context, _, _, line string) (string, error) {
	return strings.ReplaceAll(line, "s3cret", "***"), nil
}

func (r maskedRuns) Masks(_ context.Context, runID string) (bool, error) { return r[runID], nil }
