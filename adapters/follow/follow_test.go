package follow_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/follow"
	"github.com/nats-io/nats.go/jetstream"
)

func newStream(t *testing.T) (jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	st, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "lines", Subjects: []string{"lines.>"}})
	if err != nil {
		t.Fatal(err)
	}
	return js, st
}

func publish(t *testing.T, js jetstream.JetStream, subject string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := js.Publish(context.Background(), subject, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
}

// consumers is how many consumers the server holds on st.
func consumers(t *testing.T, st jetstream.Stream) int {
	t.Helper()
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Consumers
}

// TestRunReadsStoredThenLiveAndLeavesNothing: a follow from a position
// hands over the stored messages after it, then the live ones, in order and
// each once, on its filter only; it holds one consumer meanwhile, and none
// once it has ended, whichever way it ends.
func TestRunReadsStoredThenLiveAndLeavesNothing(t *testing.T) {
	var boom = errors.New("enough")
	for _, end := range []string{"context", "handler"} {
		t.Run(end, func(t *testing.T) {
			js, st := newStream(t)
			publish(t, js, "lines.a", 0, 5)
			publish(t, js, "lines.b", 0, 3)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got := make(chan string, 100)
			done := make(chan error, 1)
			go func() {
				done <- follow.Run(ctx, st, follow.Config{Filter: "lines.a", After: 2}, func(m jetstream.Msg) error {
					got <- string(m.Data())
					if end == "handler" && string(m.Data()) == "9" {
						return boom
					}
					return nil
				})
			}()
			var seen []string
			for len(seen) < 3 { // sequences 3 to 5: lines 2, 3, 4 of a
				seen = append(seen, <-got)
			}
			if n := consumers(t, st); n != 1 {
				t.Errorf("a follow holds %d consumers, want 1", n)
			}
			publish(t, js, "lines.b", 3, 4)
			publish(t, js, "lines.a", 5, 10)
			for len(seen) < 8 {
				seen = append(seen, <-got)
			}
			if strings.Join(seen, " ") != "2 3 4 5 6 7 8 9" {
				t.Errorf("followed %v, want lines 2 to 9 of a", seen)
			}
			if end == "context" {
				cancel()
			}
			err := <-done
			if want := map[string]error{"context": nil, "handler": boom}[end]; !errors.Is(err, want) {
				t.Errorf("Run returned %v, want %v", err, want)
			}
			if n := consumers(t, st); n != 0 {
				t.Errorf("%d consumers left after the follow ended", n)
			}
		})
	}
}

// TestRunEndsWhenIdleSaysSo: Idle hears of the last sequence handed over,
// and its true ends the follow without an error.
func TestRunEndsWhenIdleSaysSo(t *testing.T) {
	js, st := newStream(t)
	publish(t, js, "lines.a", 0, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var lasts []uint64
	n := 0
	err := follow.Run(ctx, st, follow.Config{Filter: "lines.a", IdleAfter: 50 * time.Millisecond,
		Idle: func(ctx context.Context, last uint64) bool {
			lasts = append(lasts, last)
			return len(lasts) == 2
		}}, func(jetstream.Msg) error { n++; return nil })
	if err != nil || n != 4 || len(lasts) != 2 || lasts[0] != 4 || lasts[1] != 4 {
		t.Errorf("Run = %v after %d messages, idle saw %v; want nil after 4, idle twice at 4", err, n, lasts)
	}
	if c := consumers(t, st); c != 0 {
		t.Errorf("%d consumers left after the follow ended", c)
	}
}
