package eventstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/domain"
)

// A sole writer knows what it wrote and what the log held when it started:
// an aggregate appended before the store started, one appended by it, and
// one that does not exist load as they are, and a guard from its memory
// still refuses a stale append.
func TestSoleWriterLoadsFromWhatItKnows(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	ctx := context.Background()
	before, err := eventstore.New(ctx, js, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := before.Append(ctx, []domain.Event{definitionEvent(t, "old", 1)}, 0); err != nil {
		t.Fatal(err)
	}
	s, err := eventstore.New(ctx, js, eventstore.Config{SoleWriter: true})
	if err != nil {
		t.Fatal(err)
	}
	seq, err := s.Append(ctx, []domain.Event{definitionEvent(t, "new", 1)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, []domain.Event{definitionEvent(t, "new", 2)}, seq); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"old": 1, "new": 2, "none": 0} {
		events, err := s.Load(ctx, domain.AggregateDefinition, name)
		if err != nil || len(events) != want {
			t.Errorf("load %s: %d events, %v; want %d", name, len(events), err, want)
		}
	}
	if _, err := s.Append(ctx, []domain.Event{definitionEvent(t, "new", 3)}, seq); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("append on a stale sequence: %v, want ErrConflict", err)
	}
}

// A sole writer that forgot an aggregate (more were used since than it
// keeps) asks the stream: the aggregate loads whole and a guard on its true
// last sequence holds.
func TestSoleWriterAsksForWhatItForgot(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	ctx := context.Background()
	s, err := eventstore.New(ctx, js, eventstore.Config{SoleWriter: true})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Append(ctx, []domain.Event{definitionEvent(t, "first", 1)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.ForgetAll()
	if events, err := s.Load(ctx, domain.AggregateDefinition, "first"); err != nil || len(events) != 1 {
		t.Fatalf("load after forgetting: %d events, %v", len(events), err)
	}
	if head, err := s.Head(ctx, domain.AggregateDefinition, "first"); err != nil || head != first {
		t.Errorf("head %d, %v; want %d", head, err, first)
	}
	if _, err := s.Append(ctx, []domain.Event{definitionEvent(t, "first", 2)}, first); err != nil {
		t.Errorf("append on the last sequence: %v", err)
	}
}

// A sole writer that let go of the events it remembered (the server once
// quiet) but not of the last sequences loads every aggregate whole from the
// stream, and its guards still hold.
func TestSoleWriterLoadsWhatItLetGoOf(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	ctx := context.Background()
	s, err := eventstore.New(ctx, js, eventstore.Config{SoleWriter: true})
	if err != nil {
		t.Fatal(err)
	}
	seq, err := s.Append(ctx, []domain.Event{definitionEvent(t, "kept", 1)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if seq, err = s.Append(ctx, []domain.Event{definitionEvent(t, "kept", 2)}, seq); err != nil {
		t.Fatal(err)
	}
	s.ForgetEvents()
	events, err := s.Load(ctx, domain.AggregateDefinition, "kept")
	if err != nil || len(events) != 2 || events[1].EventMeta().Sequence != seq {
		t.Fatalf("load after letting go: %d events, %v; want 2, the last at %d", len(events), err, seq)
	}
	if _, err := s.Append(ctx, []domain.Event{definitionEvent(t, "kept", 3)}, seq-1); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("append on a stale sequence: %v, want ErrConflict", err)
	}
}
