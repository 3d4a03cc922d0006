package parking_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/parking"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nats-io/nats.go/jetstream"
)

func newStore(t testing.TB) (*parking.Store, jetstream.JetStream) {
	t.Helper()
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	s, err := parking.New(context.Background(), js, parking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return s, js
}

var parkedAt = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)

// parked is an entry of consumer for the log event at seq.
func parked(consumer string, seq uint64) projections.ParkedEvent {
	return projections.ParkedEvent{Consumer: consumer, Sequence: seq, Type: "ResourceCreated.v1", Aggregate: "resource",
		AggregateID: "build/app-1", Error: "cannot apply: bad spec", ParkedAt: parkedAt, Body: json.RawMessage(`{"spec":{"repo":1}}`)}
}

func withID(p projections.ParkedEvent, id uint64) projections.ParkedEvent {
	p.ID = id
	return p
}

func list(t *testing.T, s *parking.Store, after uint64, limit int) ([]projections.ParkedEvent, uint64) {
	t.Helper()
	items, next, err := s.List(context.Background(), after, limit)
	if err != nil {
		t.Fatalf("list after %d: %v", after, err)
	}
	return items, next
}

func count(t *testing.T, s *parking.Store) uint64 {
	t.Helper()
	n, err := s.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestParkListRemove parks five events, pages through them, removes one
// and pages again across the gap it leaves.
func TestParkListRemove(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if items, next := list(t, s, 0, 10); len(items) != 0 || next != 0 {
		t.Fatalf("an empty parking place lists %v, next %d", items, next)
	}
	if n := count(t, s); n != 0 {
		t.Fatalf("count of an empty parking place: %d", n)
	}
	all := []projections.ParkedEvent{parked("projector", 7), parked("engine", 7), parked("intake", 0), parked("projector", 9), parked("engine", 12)}
	for _, p := range all {
		if err := s.Park(ctx, p); err != nil {
			t.Fatalf("park %+v: %v", p, err)
		}
	}
	want := make([]projections.ParkedEvent, len(all))
	for i, p := range all {
		want[i] = withID(p, uint64(i+1))
	}
	if n := count(t, s); n != 5 {
		t.Errorf("count: %d, want 5", n)
	}

	pages := []struct {
		after     uint64
		limit     int
		want      []projections.ParkedEvent
		wantNext  uint64
		situation string
	}{
		{0, 2, want[0:2], 2, "first page"},
		{2, 2, want[2:4], 4, "middle page"},
		{4, 2, want[4:5], 0, "last page, short"},
		{3, 2, want[3:5], 0, "last page, exactly full"},
		{5, 2, nil, 0, "after the last"},
		{0, 0, want, 0, "default limit"},
	}
	for _, pg := range pages {
		items, next := list(t, s, pg.after, pg.limit)
		if diff := cmp.Diff(pg.want, items, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: items (-want +got):\n%s", pg.situation, diff)
		}
		if next != pg.wantNext {
			t.Errorf("%s: next %d, want %d", pg.situation, next, pg.wantNext)
		}
	}

	if err := s.Remove(ctx, 3); err != nil {
		t.Fatalf("remove 3: %v", err)
	}
	if n := count(t, s); n != 4 {
		t.Errorf("count after a removal: %d, want 4", n)
	}
	items, next := list(t, s, 1, 2)
	if diff := cmp.Diff([]projections.ParkedEvent{want[1], want[3]}, items); diff != "" || next != 4 {
		t.Errorf("page across the removed entry, next %d (want 4) (-want +got):\n%s", next, diff)
	}
	items, next = list(t, s, 4, 2)
	if diff := cmp.Diff(want[4:5], items); diff != "" || next != 0 {
		t.Errorf("page after the gap, next %d (want 0) (-want +got):\n%s", next, diff)
	}

	for _, id := range []uint64{3, 0, 99} {
		if err := s.Remove(ctx, id); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("remove %d: %v, want an error matching domain.ErrNotFound", id, err)
		}
	}
	if n := count(t, s); n != 4 {
		t.Errorf("count after failed removals: %d, want 4", n)
	}
}

// TestParkIsIdempotentPerConsumerAndSequence: a consumer that parks the
// same event again (a redelivery) keeps one entry; another consumer parks
// its own.
func TestParkIsIdempotentPerConsumerAndSequence(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for _, p := range []projections.ParkedEvent{parked("projector", 7), parked("projector", 7), parked("engine", 7)} {
		if err := s.Park(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	items, _ := list(t, s, 0, 10)
	var got []string
	for _, p := range items {
		got = append(got, p.Consumer)
	}
	if diff := cmp.Diff([]string{"projector", "engine"}, got); diff != "" {
		t.Errorf("consumers of the entries (-want +got):\n%s", diff)
	}
}

// TestParkKeepsWhatItCan: whatever the entry holds, parking succeeds (a
// consumer that cannot park would have to retry without end).
func TestParkKeepsWhatItCan(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	notJSON := projections.ParkedEvent{Consumer: "intake", Error: "undecodable result", Body: json.RawMessage("{not json")}
	huge := parked("projector", 3)
	huge.Body = json.RawMessage(`"` + strings.Repeat("x", 9<<20) + `"`) // the embedded server takes 8 MiB
	oddName := parked("odd.name *>", 4)
	before := time.Now()
	for _, p := range []projections.ParkedEvent{notJSON, huge, oddName} {
		if err := s.Park(ctx, p); err != nil {
			t.Fatalf("park %s: %v", p.Consumer, err)
		}
	}
	items, _ := list(t, s, 0, 10)
	if len(items) != 3 {
		t.Fatalf("listed %d entries, want 3", len(items))
	}
	if got := string(items[0].Body); got != `"{not json"` {
		t.Errorf("a body that is not JSON is kept as %s, want it as a JSON string", got)
	}
	if items[0].ParkedAt.Before(before.Add(-time.Second)) || items[0].ParkedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("ParkedAt of an entry parked without one: %v, want about now", items[0].ParkedAt)
	}
	if items[1].Body != nil || !strings.Contains(items[1].Error, "cannot apply: bad spec (its body of 9437186 bytes is not kept here: too large)") {
		t.Errorf("an entry too large: body of %d bytes, error %q", len(items[1].Body), items[1].Error)
	}
	if items[2].Consumer != "odd.name *>" {
		t.Errorf("a consumer name that is no subject token became %q", items[2].Consumer)
	}
}

// TestPublisherWithPoisonQueue runs a failing handler behind watermill's
// poison-queue middleware: the message is parked, and the handler's error
// does not reach the subscriber (which then acknowledges and goes on).
func TestPublisherWithPoisonQueue(t *testing.T) {
	s, _ := newStore(t)
	poison, err := middleware.PoisonQueue(s.Publisher("engine"), "parked")
	if err != nil {
		t.Fatal(err)
	}
	handler := poison(func(msg *message.Message) ([]*message.Message, error) {
		return nil, errors.New("run 42 is unknown")
	})

	event := message.NewMessage("b7d0c6a4-4d5e-4f7c-9d64-1f2f4f6c8a11", message.Payload(`{"type":"RunStarted.v1"}`))
	event.Metadata.Set(parking.MetadataSequence, "42")
	event.Metadata.Set(parking.MetadataName, "RunStarted.v1")
	event.Metadata.Set(parking.MetadataAggregate, "run")
	event.Metadata.Set(parking.MetadataAggregateID, "0b1c")
	bare := message.NewMessage("c8e1d7b5-5e6f-4a8d-8e75-2a3a5a7d9b22", message.Payload("not json"))
	badSeq := message.NewMessage("d9f2e8c6-6f7a-4b9e-9f86-3b4b6b8eac33", message.Payload(`{}`))
	badSeq.Metadata.Set(parking.MetadataSequence, "later")
	for _, msg := range []*message.Message{event, bare, badSeq, event} {
		if out, err := handler(msg); err != nil || out != nil {
			t.Fatalf("handler behind the poison queue: %v %v, want nothing and no error", out, err)
		}
	}

	items, _ := list(t, s, 0, 10)
	for i := range items {
		if items[i].ParkedAt.IsZero() {
			t.Errorf("entry %d has no ParkedAt", items[i].ID)
		}
		items[i].ParkedAt = time.Time{}
	}
	want := []projections.ParkedEvent{
		{ID: 1, Consumer: "engine", Sequence: 42, Type: "RunStarted.v1", Aggregate: "run", AggregateID: "0b1c",
			Error: "run 42 is unknown", Body: json.RawMessage(`{"type":"RunStarted.v1"}`)},
		{ID: 2, Consumer: "engine", Error: "run 42 is unknown", Body: json.RawMessage(`"not json"`)},
		{ID: 3, Consumer: "engine", Error: `run 42 is unknown (metadata Conveyor-Sequence "later" is not a log position)`,
			Body: json.RawMessage(`{}`)},
		// The event published a second time is kept once.
	}
	if diff := cmp.Diff(want, items); diff != "" {
		t.Errorf("parked messages (-want +got):\n%s", diff)
	}
	if err := s.Publisher("engine").Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// TestNewIsIdempotent: every server creates the stream at start; the second
// finds it and sees what the first parked.
func TestNewIsIdempotent(t *testing.T) {
	first, js := newStore(t)
	if err := first.Park(context.Background(), parked("projector", 1)); err != nil {
		t.Fatal(err)
	}
	second, err := parking.New(context.Background(), js, parking.Config{})
	if err != nil {
		t.Fatalf("second New: %v", err)
	}
	if n := count(t, second); n != 1 {
		t.Errorf("the second store counts %d, want 1", n)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		cfg  parking.Config
		want string
	}{
		{parking.Config{Stream: "CONVEYOR.PARKED", SubjectPrefix: "p", Replicas: 1}, "stream name"},
		{parking.Config{Stream: "P", SubjectPrefix: "conveyor.parked.>", Replicas: 1}, "subject prefix"},
		{parking.Config{Stream: "P", SubjectPrefix: "conveyor.", Replicas: 1}, "subject prefix"},
		{parking.Config{Stream: "P", SubjectPrefix: "p", Replicas: 6}, "Replicas must be 1 to 5"},
		{parking.Config{Stream: "P", SubjectPrefix: "p", Replicas: 3, DuplicateWindow: -time.Second}, "DuplicateWindow"},
	}
	for _, c := range cases {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want an error about %s", c.cfg, err, c.want)
		}
	}
	if err := (parking.Config{Stream: "P", SubjectPrefix: "p", Replicas: 3}).Validate(); err != nil {
		t.Errorf("a valid config: %v", err)
	}
}
