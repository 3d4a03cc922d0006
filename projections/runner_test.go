package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/etcdstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/google/go-cmp/cmp"
)

// memLog is a log in memory: one message per entry, numbered from 1.
type memLog struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (l *memLog) append(t *testing.T, events ...domain.Event) uint64 {
	t.Helper()
	data, err := domain.EncodeEvents(events)
	if err != nil {
		t.Fatal(err)
	}
	return l.appendRaw(data)
}

func (l *memLog) appendRaw(data []byte) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, data)
	return uint64(len(l.msgs))
}

func (l *memLog) ReadMessages(_ context.Context, from uint64, n int) ([]projections.LogMessage, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []projections.LogMessage
	for seq := max(from, 1); seq <= uint64(len(l.msgs)) && len(out) < n; seq++ {
		out = append(out, projections.LogMessage{Sequence: seq, Data: l.msgs[seq-1]})
	}
	return out, nil
}

// parkingLot keeps what is parked.
type parkingLot struct {
	mu     sync.Mutex
	parked []projections.ParkedEvent
}

func (p *parkingLot) Park(_ context.Context, e projections.ParkedEvent) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.parked = append(p.parked, e)
	return nil
}

func (p *parkingLot) all() []projections.ParkedEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]projections.ParkedEvent(nil), p.parked...)
}

// runUntil runs a runner over log and store until the read models reach
// seq, then stops it.
func runUntil(t *testing.T, cfg projections.RunnerConfig, seq uint64) {
	t.Helper()
	cfg.Lead = func(ctx context.Context) (context.Context, error) { return ctx, nil }
	cfg.Poll = 10 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	if cfg.Position == nil {
		cfg.Position = projections.NewPosition()
	}
	r, err := projections.NewRunner(cfg)
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	err = cfg.Position.WaitFor(wctx, seq)
	cancel()
	must(t, <-done)
	if err != nil {
		t.Fatalf("the read models did not reach %d: at %d", seq, cfg.Position.Current())
	}
}

func TestRunnerAppliesTheLogInBatchesAsOneEventAtATimeWould(t *testing.T) {
	c := embedtest.Etcd(t)
	events := history(t)
	log := &memLog{}
	for _, e := range events {
		log.append(t, e)
	}
	feed(t, projections.NewProjector(etcdstore.New(c, "/single")), events)
	want := dump(t, c, "/single/")

	// Three writes per transaction at most: many commits.
	runUntil(t, projections.RunnerConfig{Log: log, Store: etcdstore.New(c, "/runner"), MaxOps: 3}, uint64(len(events)))
	got := dump(t, c, "/runner/")
	if want := fmt.Sprint(len(events)); got[projections.CheckpointKey] != want {
		t.Errorf("checkpoint = %q, want %s", got[projections.CheckpointKey], want)
	}
	if got[projections.LayoutKey] == "" {
		t.Errorf("the runner did not note the layout it writes under %s", projections.LayoutKey)
	}
	delete(got, projections.CheckpointKey)
	delete(got, projections.LayoutKey)
	delete(want, projections.LayoutKey)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("runner (-one event at a time +runner):\n%s", diff)
	}
}

func TestRunnerIsIdempotentByPosition(t *testing.T) {
	c := embedtest.Etcd(t)
	log := &memLog{}
	for _, e := range history(t) {
		log.append(t, e)
	}
	store := etcdstore.New(c, "/idem")
	runUntil(t, projections.RunnerConfig{Log: log, Store: store}, log.last())
	first := dump(t, c, "/idem/")
	// A second runner (another server, or this one after a restart)
	// starts from the checkpoint: nothing is applied twice.
	runUntil(t, projections.RunnerConfig{Log: log, Store: store}, log.last())
	if diff := cmp.Diff(first, dump(t, c, "/idem/")); diff != "" {
		t.Errorf("second runner changed the read models (-first +second):\n%s", diff)
	}
}

// A message that cannot be applied is parked with the reason; the messages
// after it are applied, and it is not tried again.
func TestRunnerParksWhatItCannotApplyAndGoesOn(t *testing.T) {
	c := embedtest.Etcd(t)
	store := etcdstore.New(c, "/park")
	log := &memLog{}
	events := history(t)
	for _, e := range events[:3] { // the definition's two events and the pipeline
		log.append(t, e)
	}
	garbage := log.appendRaw([]byte(`{"id":"x","type":"NoSuchEvent.v1"}`))

	// A resource whose projection is larger than etcd takes in one request:
	// the domain refuses such a spec today, so the event is one an older
	// server wrote.
	big := domain.Resource{ID: "r-huge", Name: "huge", Type: "build", Metadata: map[string]string{"version": "1"},
		Spec: json.RawMessage(`{"blob":"` + strings.Repeat("x", 1600<<10) + `"}`)}
	huge := &domain.ResourceCreated{Meta: domain.Meta{ID: "big", Type: domain.TypeResourceCreated, Aggregate: domain.AggregateResource,
		AggregateID: big.Key(), Version: 1, Time: time.Unix(2e9, 0).UTC(), CorrelationID: "c", CausationID: "c"}, Resource: big}
	hugeSeq := log.append(t, huge)
	var after domain.ResourceAggregate
	must(t, after.Create(domain.Resource{Name: "after", Type: "build", Spec: json.RawMessage(`{}`)}, "r-after",
		domain.Cause{EventID: "after", Time: time.Unix(2e9, 0), CorrelationID: "c2", CausationID: "c"}))
	last := log.append(t, after.Changes()...)

	lot := &parkingLot{}
	runUntil(t, projections.RunnerConfig{Log: log, Store: store, Parking: lot}, last)

	parked := lot.all()
	if len(parked) != 2 || parked[0].Sequence != garbage || parked[1].Sequence != hugeSeq {
		t.Fatalf("parked %+v, want the messages at %d and %d", parked, garbage, hugeSeq)
	}
	if !strings.Contains(parked[0].Error, "NoSuchEvent.v1") || parked[1].Type != domain.TypeResourceCreated ||
		parked[1].AggregateID != "build/huge" || parked[1].Consumer != "projector" {
		t.Errorf("parking entries say %+v", parked)
	}
	q := projections.NewReadModel(store)
	if _, err := q.Resource(context.Background(), "build", "after"); err != nil {
		t.Errorf("the resource after the parked ones: %v", err)
	}
	if _, err := q.Definition(context.Background(), "build"); err != nil {
		t.Errorf("the definition before them: %v", err)
	}
	// Started again, the runner goes on from its checkpoint: nothing is
	// parked twice.
	runUntil(t, projections.RunnerConfig{Log: log, Store: store, Parking: lot}, last)
	if n := len(lot.all()); n != 2 {
		t.Errorf("after a restart %d entries are parked, want 2", n)
	}
}

func (l *memLog) last() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(len(l.msgs))
}
