package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
)

func newStore(t testing.TB, js jetstream.JetStream) *eventstore.Store {
	t.Helper()
	s, err := eventstore.New(context.Background(), js, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func definitionEvent(t testing.TB, name string, version uint64) domain.Event {
	t.Helper()
	c := domain.Cause{EventID: uuid.NewString(), Time: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		CorrelationID: "corr-" + name, CausationID: "cause-" + name}
	var d domain.Definition
	for i := uint64(1); i < version; i++ {
		d.Apply(&domain.ResourceDefinitionUpdated{Meta: domain.Meta{Version: i}})
	}
	if version == 1 {
		if err := d.Create(domain.ResourceDefinition{Name: name, Schema: []byte(`{"type":"object"}`)}, "id-"+name, c); err != nil {
			t.Fatal(err)
		}
	} else {
		d.Apply(&domain.ResourceDefinitionCreated{Meta: domain.Meta{Version: version - 1}, Definition: domain.ResourceDefinition{Name: name}})
		if err := d.Update(domain.ResourceDefinition{Name: name, Schema: []byte(`{"type":"object"}`), Version: "2"}, c); err != nil {
			t.Fatal(err)
		}
	}
	return d.Changes()[0]
}

func TestAppendAndLoad(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	s := newStore(t, js)
	ctx := context.Background()
	first := definitionEvent(t, "build", 1)
	seq, err := s.Append(ctx, []domain.Event{first}, 0)
	if err != nil || seq == 0 {
		t.Fatalf("append: %d %v", seq, err)
	}
	second := definitionEvent(t, "build", 2)
	if _, err := s.Append(ctx, []domain.Event{second}, seq); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, domain.AggregateDefinition, "build")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]domain.Event{first, second}, got); diff != "" {
		t.Errorf("loaded events (-want +got):\n%s", diff)
	}
	if none, err := s.Load(ctx, domain.AggregateDefinition, "other"); err != nil || len(none) != 0 {
		t.Errorf("load of an empty stream: %v %v", none, err)
	}
}

// Each store remembers the chains it loaded; what another store (another
// server) appends meanwhile is still loaded, and a loaded event changed by
// its caller does not change the next load.
func TestLoadSeesWhatOthersAppended(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	one, other := newStore(t, js), newStore(t, js)
	ctx := context.Background()
	var want []domain.Event
	load := func(s *eventstore.Store, what string) {
		t.Helper()
		got, err := s.Load(ctx, domain.AggregateDefinition, "build")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", what, diff)
		}
		if len(got) > 0 {
			got[0].EventMeta().AggregateID = "changed by a caller"
		}
	}
	var seq uint64
	for version := uint64(1); version <= 4; version++ {
		writer := []*eventstore.Store{one, other}[version%2]
		e := definitionEvent(t, "build", version)
		next, err := writer.Append(ctx, []domain.Event{e}, seq)
		if err != nil {
			t.Fatal(err)
		}
		seq, want = next, append(want, e)
		if version == 3 { // another aggregate's event in between
			if _, err := other.Append(ctx, []domain.Event{definitionEvent(t, "other", 1)}, 0); err != nil {
				t.Fatal(err)
			}
		}
		load(one, fmt.Sprintf("after version %d, by the first store", version))
		load(one, fmt.Sprintf("after version %d, loaded again", version))
		if version%2 == 0 { // the second store loads after every other version: two are new each time
			load(other, fmt.Sprintf("after version %d, by the second store", version))
		}
	}
}

func TestStaleExpectedSequenceIsAConflict(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	s := newStore(t, js)
	ctx := context.Background()
	if _, err := s.Append(ctx, []domain.Event{definitionEvent(t, "build", 1)}, 0); err != nil {
		t.Fatal(err)
	}
	_, err := s.Append(ctx, []domain.Event{definitionEvent(t, "build", 1)}, 0)
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("second create expecting an empty stream: %v, want ErrConflict", err)
	}
}

func TestConcurrentAppendersOneWins(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	s := newStore(t, js)
	ctx := context.Background()
	const writers = 50
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Append(ctx, []domain.Event{definitionEvent(t, "race", 1)}, 0)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, domain.ErrConflict):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d appends won, want exactly 1", won)
	}
	if events, _ := s.Load(ctx, domain.AggregateDefinition, "race"); len(events) != 1 {
		t.Errorf("stream holds %d events, want 1", len(events))
	}
}

func TestRetriedAppendIsStoredOnce(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	s := newStore(t, js)
	ctx := context.Background()
	e := definitionEvent(t, "build", 1)
	seq1, err := s.Append(ctx, []domain.Event{e}, 0)
	if err != nil {
		t.Fatal(err)
	}
	seq2, err := s.Append(ctx, []domain.Event{e}, 0)
	if !errors.Is(err, domain.ErrAlreadyStored) || seq2 != seq1 {
		t.Fatalf("retry: seq %d (first %d), err %v; want the same sequence and ErrAlreadyStored", seq2, seq1, err)
	}
	if last, _ := s.LastSequence(ctx); last != 1 {
		t.Errorf("log holds %d events, want 1", last)
	}
}

func TestReplayAndRestart(t *testing.T) {
	dir := t.TempDir()
	srv := embedtest.NATS(t, dir)
	nc, js := embedtest.JetStream(t, srv)
	s := newStore(t, js)
	ctx := context.Background()
	var want []string
	for _, name := range []string{"a", "b", "c", "d"} {
		e := definitionEvent(t, name, 1)
		if _, err := s.Append(ctx, []domain.Event{e}, 0); err != nil {
			t.Fatal(err)
		}
		want = append(want, e.EventMeta().ID)
	}
	nc.Close()
	srv.Close()

	_, js = embedtest.JetStream(t, embedtest.NATS(t, dir))
	s = newStore(t, js)
	var got []string
	var seqs []uint64
	if err := s.Replay(ctx, 1, func(e domain.Event) error {
		got, seqs = append(got, e.EventMeta().ID), append(seqs, e.EventMeta().Sequence)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replay after restart (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint64{1, 2, 3, 4}, seqs); diff != "" {
		t.Errorf("sequences (-want +got):\n%s", diff)
	}
}

func TestEventsPagesAndFilters(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	s := newStore(t, js)
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		if _, err := s.Append(ctx, []domain.Event{definitionEvent(t, name, 1)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	q := projections.EventQuery{Aggregate: domain.AggregateDefinition, Limit: 2}
	for pages := 0; ; pages++ {
		events, next, err := s.Events(ctx, q)
		if err != nil || pages > 5 {
			t.Fatalf("page %d: %v", pages, err)
		}
		for _, raw := range events {
			names = append(names, aggregateID(t, raw))
		}
		if next == 0 {
			break
		}
		q.After = next
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "d", "e"}, names); diff != "" {
		t.Errorf("paged events (-want +got):\n%s", diff)
	}
	one, _, err := s.Events(ctx, projections.EventQuery{Aggregate: domain.AggregateDefinition, ID: "c"})
	if err != nil || len(one) != 1 || aggregateID(t, one[0]) != "c" {
		t.Errorf("one aggregate: %v %v", one, err)
	}
	corr, _, err := s.Events(ctx, projections.EventQuery{Correlation: "corr-d"})
	if err != nil || len(corr) != 1 || aggregateID(t, corr[0]) != "d" {
		t.Errorf("by correlation: %v %v", corr, err)
	}
	none, _, err := s.Events(ctx, projections.EventQuery{Aggregate: domain.AggregateRun})
	if err != nil || len(none) != 0 {
		t.Errorf("no run events: %v %v", none, err)
	}
}

// aggregateID decodes a page's event and checks that it carries its log
// sequence.
func aggregateID(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	e, err := domain.DecodeEvent(raw)
	if err != nil {
		t.Fatalf("page holds %s: %v", raw, err)
	}
	if e.EventMeta().Sequence == 0 {
		t.Errorf("event without its sequence: %s", raw)
	}
	return e.EventMeta().AggregateID
}

func TestFollowSeesStoredThenNew(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	s := newStore(t, js)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.Append(ctx, []domain.Event{definitionEvent(t, "old", 1)}, 0); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 10)
	go func() {
		_ = s.Follow(ctx, projections.EventQuery{}, func(e domain.Event) error {
			got <- e.EventMeta().AggregateID
			return nil
		})
	}()
	if first := <-got; first != "old" {
		t.Fatalf("first followed event %s", first)
	}
	if _, err := s.Append(ctx, []domain.Event{definitionEvent(t, "new", 1)}, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case second := <-got:
		if second != "new" {
			t.Errorf("second followed event %s", second)
		}
	case <-ctx.Done():
		t.Fatal("a new event was not followed")
	}
}

func TestEventsPageEdges(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	s := newStore(t, js)
	ctx := context.Background()
	for i, name := range []string{"a", "b", "c", "d"} {
		if _, err := s.Append(ctx, []domain.Event{definitionEvent(t, name, 1)}, 0); err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 { // every other definition changes once more
			if _, err := s.Append(ctx, []domain.Event{definitionEvent(t, name, 2)}, uint64(i+1+i/2)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Log: a1 b1 b2 c1 d1 d2.
	type page struct {
		ids  []string
		next uint64
	}
	read := func(q projections.EventQuery) page {
		t.Helper()
		events, next, err := s.Events(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		p := page{next: next}
		for _, raw := range events {
			p.ids = append(p.ids, aggregateID(t, raw))
		}
		return p
	}
	for _, c := range []struct {
		name string
		q    projections.EventQuery
		want page
	}{
		{"a page that holds the rest of the log is the last", projections.EventQuery{Limit: 6}, page{[]string{"a", "b", "b", "c", "d", "d"}, 0}},
		{"a full page with more after it", projections.EventQuery{Limit: 5}, page{[]string{"a", "b", "b", "c", "d"}, 5}},
		{"the page after it", projections.EventQuery{Limit: 5, After: 5}, page{[]string{"d"}, 0}},
		{"after the end", projections.EventQuery{After: 6}, page{nil, 0}},
		{"a type filter reads past non-matching batches", projections.EventQuery{Type: domain.TypeDefinitionUpdated, Limit: 1},
			page{[]string{"b"}, 3}},
		{"and goes on from the page's last event", projections.EventQuery{Type: domain.TypeDefinitionUpdated, Limit: 1, After: 3},
			page{[]string{"d"}, 0}},
		{"a window that holds every event", projections.EventQuery{Since: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
			Until: time.Date(2026, 11, 22, 10, 0, 1, 0, time.UTC)}, page{[]string{"a", "b", "b", "c", "d", "d"}, 0}},
		{"a window after every event", projections.EventQuery{Since: time.Date(2026, 11, 22, 10, 0, 1, 0, time.UTC)}, page{nil, 0}},
	} {
		if diff := cmp.Diff(c.want, read(c.q), cmp.AllowUnexported(page{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}

// An operator may remove a message from the stream; a page then still
// numbers every event by its own sequence.
func TestEventsNumberedAcrossAGap(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	s := newStore(t, js)
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c", "d"} {
		if _, err := s.Append(ctx, []domain.Event{definitionEvent(t, name, 1)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	stream, err := js.Stream(ctx, "CONVEYOR_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.DeleteMsg(ctx, 2); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q    projections.EventQuery
		want []uint64
	}{{projections.EventQuery{}, []uint64{1, 3, 4}}, {projections.EventQuery{After: 1, Limit: 1}, []uint64{3}}} {
		events, _, err := s.Events(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for _, raw := range events {
			e, err := domain.DecodeEvent(raw)
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, e.EventMeta().Sequence)
		}
		if diff := cmp.Diff(c.want, seqs); diff != "" {
			t.Errorf("after %d, limit %d: sequences (-want +got):\n%s", c.q.After, c.q.Limit, diff)
		}
	}
}

// A log whose stream an earlier version made with a two-minute duplicate
// window gets the store's window at start, its events kept.
func TestALogOfTheLastVersionGetsTheDuplicateWindow(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "CONVEYOR_EVENTS", Subjects: []string{"conveyor.events.>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute, AllowDirect: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "conveyor.events.definition.old", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	newStore(t, js)
	st, err := js.Stream(ctx, "CONVEYOR_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Duplicates != eventstore.DefaultDuplicateWindow || info.State.Msgs != 1 {
		t.Errorf("the stream's window is %v with %d messages, want %v with the 1 it held", info.Config.Duplicates, info.State.Msgs, eventstore.DefaultDuplicateWindow)
	}
}
