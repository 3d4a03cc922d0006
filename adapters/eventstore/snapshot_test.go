package eventstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

// A concurrency group that many runs went through loads from its last
// snapshot: a store that remembers the group and one that starts cold
// both return the snapshot's message and what came after it, never the
// hundreds of events before, and the group folded from them is the group
// the decisions left.
func TestGroupLoadsFromItsLastSnapshot(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	writer := newStore(t, js)
	ctx := context.Background()
	const name = "deploy-staging"
	id := domain.GroupID(name)
	decided := domain.NewGroup(name)
	var seq uint64
	appended := 0
	for i := range 300 {
		g := domain.NewGroup(name)
		events, err := writer.Load(ctx, domain.AggregateConcurrency, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			g.Apply(e)
		}
		c := domain.Cause{EventID: fmt.Sprintf("decision-%d", i), Time: time.Now(), CorrelationID: fmt.Sprintf("run-%d", i/2)}
		if i%2 == 0 {
			g.Join(fmt.Sprintf("run-%d", i/2), 1, domain.OnFullQueue, uint64(i+1), c)
		} else {
			g.Leave(fmt.Sprintf("run-%d", i/2), "ended", c)
		}
		g.SnapshotIfDue()
		if len(g.Changes()) == 0 {
			t.Fatalf("decision %d recorded nothing", i)
		}
		if seq, err = writer.Append(ctx, g.Changes(), seq); err != nil {
			t.Fatalf("decision %d: %v", i, err)
		}
		for _, e := range g.Changes() {
			decided.Apply(e)
		}
		appended += len(g.Changes())
	}
	cold := newStore(t, js)
	for what, s := range map[string]interface {
		Load(context.Context, string, string) ([]domain.Event, error)
	}{"the writer": writer, "a cold store": cold} {
		events, err := s.Load(ctx, domain.AggregateConcurrency, id)
		if err != nil {
			t.Fatal(err)
		}
		last := -1
		for i, e := range events {
			if domain.IsSnapshot(e) {
				last = i
			}
		}
		if last < 0 || len(events) > 70 || len(events) >= appended {
			t.Fatalf("%s loaded %d of %d events, last snapshot at %d: want a snapshot and at most 64 events after it", what, len(events), appended, last)
		}
		g := domain.NewGroup(name)
		for _, e := range events {
			g.Apply(e)
		}
		if diff := cmp.Diff(decided.State(), g.State()); diff != "" {
			t.Errorf("%s: group from its last snapshot (-every event +from the snapshot):\n%s", what, diff)
		}
		if g.Version() != decided.Version() {
			t.Errorf("%s: version %d from the snapshot, %d from every event", what, g.Version(), decided.Version())
		}
	}
}
