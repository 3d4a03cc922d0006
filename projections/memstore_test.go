package projections_test

import (
	"context"
	"testing"

	"github.com/conveyor/conveyor/projections"
	"github.com/google/go-cmp/cmp"
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
