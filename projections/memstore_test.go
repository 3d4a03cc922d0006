package projections_test

import (
	"context"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// A copy that takes a store's changes after every few events, as a rebuild
// writes its new generation while it projects, ends equal to the store:
// deleted keys (a resource and, by prefix, its versions) included.
func TestTakeChangesKeepsACopyEqual(t *testing.T) {
	ctx := context.Background()
	events := history(t)
	mem := projections.NewMemStore()
	mem.TrackChanges()
	p := projections.NewProjector(mem)
	replica := projections.NewMemStore()
	deletes := 0
	for start := 0; start < len(events); start += 3 {
		feed(t, p, events[start:min(start+3, len(events))])
		ops := mem.TakeChanges()
		for _, op := range ops {
			if op.Delete {
				deletes++
			}
		}
		if _, _, err := replica.Commit(ctx, nil, ops); err != nil {
			t.Fatal(err)
		}
	}
	if deletes == 0 {
		t.Fatal("the history deletes nothing: the case tests too little")
	}
	strip := func(kvs []projections.KV) map[string]string {
		out := map[string]string{}
		for _, kv := range kvs {
			out[kv.Key] = string(kv.Value)
		}
		return out
	}
	if diff := cmp.Diff(strip(mem.All()), strip(replica.All())); diff != "" {
		t.Errorf("the copy differs (-store +copy):\n%s", diff)
	}
	if ops := mem.TakeChanges(); len(ops) != 0 {
		t.Errorf("changes left after the last take: %v", ops)
	}
}

// A projector that keeps runs decoded between events, in one batch and
// across batches, writes what projectors that decode every run from its
// stored bytes write.
func TestKeptRunsProjectAsStoredOnes(t *testing.T) {
	ctx := context.Background()
	events := history(t)
	fresh := projections.NewMemStore()
	for _, e := range events {
		feed(t, projections.NewProjector(fresh), []domain.Event{e})
	}
	// Unsized batches encode a run once per batch, when their ops are taken.
	for name, unsized := range map[string]bool{"sized batches": false, "unsized batches": true} {
		kept := projections.NewMemStore()
		p := projections.NewProjector(kept)
		newBatch := p.NewBatch
		if unsized {
			newBatch = p.NewUnsizedBatch
		}
		b := newBatch()
		for i, e := range events {
			must(t, b.Add(ctx, e.EventMeta().Sequence, []domain.Event{e}))
			if i%3 == 2 { // some events of a run in one batch, some in the next
				_, _, err := kept.Commit(ctx, nil, b.Ops())
				must(t, err)
				p.Committed(b)
				b = newBatch()
			}
		}
		_, _, err := kept.Commit(ctx, nil, b.Ops())
		must(t, err)
		// Project notes the layout it wrote; bare batches do not.
		noLayout := cmpopts.IgnoreSliceElements(func(kv projections.KV) bool { return kv.Key == projections.LayoutKey })
		if diff := cmp.Diff(fresh.All(), kept.All(), cmpopts.IgnoreFields(projections.KV{}, "ModRevision"), noLayout); diff != "" {
			t.Errorf("%s: read models (-decoded each time +kept decoded):\n%s", name, diff)
		}
	}
	runs := 0
	for _, kv := range fresh.All() {
		if strings.HasPrefix(kv.Key, "runs/") {
			runs++
		}
	}
	if runs == 0 {
		t.Fatal("the history holds no run: the case tests nothing")
	}
}
