package protocol_test

import (
	"context"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
	"github.com/nats-io/nats.go/jetstream"
)

// TestStepWorkIsStoredOnceWhateverTheRepeats: the engine publishes a waiting
// step's work again on every look at its run, also after the stream's
// duplicate window has passed (a step that runs for minutes), and a server
// restarted after that window publishes it once more. The stream holds the
// step's message once all the same, so its driver is handed it once; work
// that is not there is published.
func TestStepWorkIsStoredOnceWhateverTheRepeats(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	ctx := context.Background()
	// The protocol's `messages` stream, with a duplicate window short
	// enough to outlast here.
	const window = 200 * time.Millisecond
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: protocol.MessagesStream,
		Subjects: []string{"resources.>", "drivers.>", "events.>"}, Duplicates: window})
	if err != nil {
		t.Fatal(err)
	}
	const runID = "6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a11"
	step := func(name string, dispatchedAt time.Time) engine.Work {
		return engine.Work{Driver: "compiler", Event: "process", Resource: domain.Resource{Type: "build", Name: "app-1"},
			RunID: runID, Step: name, Attempt: 1, MessageID: engine.StepMessageID(runID, name, 1), DispatchedAt: dispatchedAt}
	}
	stored := func() uint64 {
		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}

	d := protocol.NewDispatcher(js)
	compile := step("compile", time.Now())
	must(t, d.Dispatch(ctx, compile))
	time.Sleep(2 * window) // the stream forgets the message id
	must(t, d.Dispatch(ctx, compile))
	if n := stored(); n != 1 {
		t.Fatalf("a repeat past the duplicate window: %d messages stored, want 1", n)
	}

	restarted := protocol.NewDispatcher(js)
	compile.DispatchedAt = time.Now().Add(-time.Hour)
	must(t, restarted.Dispatch(ctx, compile))
	if n := stored(); n != 1 {
		t.Fatalf("a restarted server's repeat: %d messages stored, want 1", n)
	}

	missing := step("upload", time.Now().Add(-time.Hour))
	must(t, restarted.Dispatch(ctx, missing))
	if n := stored(); n != 2 {
		t.Fatalf("work recorded long ago and not in the stream: %d messages stored, want 2", n)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
