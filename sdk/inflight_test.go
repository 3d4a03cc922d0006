package sdk

import (
	"context"
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// TestInflightAdmitsEachKeyOnce: a key runs once at a time; once its message
// is acknowledged it is not run again, but work handed back (its result not
// stored) runs again; work without a key is never held back.
func TestInflightAdmitsEachKeyOnce(t *testing.T) {
	f := newInflight()
	ctx := context.Background()
	first := f.begin(ctx, "run-1.a.1", nil)
	if first.end == nil {
		t.Fatal("the first delivery was not admitted")
	}
	if again := f.begin(ctx, "run-1.a.1", nil); again.end != nil || again.earlier == nil || again.stored {
		t.Fatalf("a second delivery of running work was admitted, or told it was stored: %+v", again)
	}
	first.end(false) // handed back: its result was not stored
	retry := f.begin(ctx, "run-1.a.1", nil)
	if retry.end == nil {
		t.Fatal("work handed back was not admitted again")
	}
	retry.end(true)
	retry.end(false) // a later call does not undo the first
	if after := f.begin(ctx, "run-1.a.1", nil); after.end != nil || !after.stored || !after.earlier.acked {
		t.Fatal("work whose result was stored was admitted again")
	}
	one, two := f.begin(ctx, "", nil), f.begin(ctx, "", nil)
	if one.end == nil || two.end == nil {
		t.Fatal("work without a key was held back")
	}
	f.stop("run-1.b.1", "the run was cancelled")
	if stopped := f.begin(ctx, "run-1.b.1", nil); stopped.stopped != "the run was cancelled" {
		t.Fatalf("work stopped before it came was admitted: %+v", stopped)
	}
}

// TestFinishRemembersTheWorkDoneBeforeTheAck: a delivery the server makes
// once it has the work's ack is told the work is done, never that it runs.
func TestFinishRemembersTheWorkDoneBeforeTheAck(t *testing.T) {
	m, err := NewManager(NewDriver("compiler", []string{"build"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const key = "run-1.a.1"
	first := m.work.begin(ctx, key, nil)
	var atAck admission
	msg := ackSpy{onAck: func() { atAck = m.work.begin(ctx, key, nil) }}
	m.finish(ctx, nil, "", msg, protocol.Work{}, Resource{}, Result{Success: true}, false, first.end, slog.New(slog.DiscardHandler))
	if !atAck.stored {
		t.Fatalf("a delivery at the ack was told the work runs: %+v", atAck)
	}
}

// ackSpy is a message that calls onAck when it is acknowledged.
type ackSpy struct {
	jetstream.Msg
	onAck func()
}

func (a ackSpy) DoubleAck(context.Context) error { a.onAck(); return nil }

// TestRecentForgetsTheOldest: the memory stays within its size.
func TestRecentForgetsTheOldest(t *testing.T) {
	r := newRecent[int]()
	for i := range recentSize + 10 {
		r.add(attemptKey("run", "s", i), i)
	}
	if _, ok := r.get(attemptKey("run", "s", 0)); ok {
		t.Error("the oldest key is still remembered")
	}
	if v, ok := r.get(attemptKey("run", "s", recentSize+9)); !ok || v != recentSize+9 {
		t.Error("the newest key is forgotten")
	}
	if len(r.values) != recentSize {
		t.Errorf("%d keys remembered, want %d", len(r.values), recentSize)
	}
}
