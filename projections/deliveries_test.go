package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
)

// A trigger's latest deliveries are kept, newest first, KeptDeliveries of
// them; deleting the trigger lets them go.
func TestATriggersLatestDeliveriesAreKept(t *testing.T) {
	ctx := context.Background()
	store := projections.NewMemStore()
	p := projections.NewProjector(store)
	seq := uint64(0)
	fire := func(trigger string, i int) domain.Event {
		seq++
		return &domain.TriggerFired{Meta: domain.Meta{ID: fmt.Sprintf("%s-%d", trigger, i), Type: domain.TypeTriggerFired,
			Aggregate: domain.AggregateDelivery, AggregateID: fmt.Sprintf("%s/%d", trigger, i), Sequence: seq, Version: 1,
			Time: time.Unix(int64(i), 0).UTC(), CorrelationID: fmt.Sprintf("run-%s-%d", trigger, i)},
			Trigger: trigger, Event: "push", Delivery: fmt.Sprintf("d%d", i), Commit: fmt.Sprintf("c%d", i), Ref: "refs/heads/main",
			Resource: domain.Resource{Type: "build", Name: fmt.Sprintf("app-%d", i), Pipeline: "ci"}}
	}
	var events []domain.Event
	for i := 1; i <= projections.KeptDeliveries+5; i++ {
		events = append(events, fire("a", i))
		if i <= 2 {
			events = append(events, fire("b", i))
		}
	}
	// In several batches, as the projector takes the log.
	for len(events) > 0 {
		n := min(7, len(events))
		must(t, p.Project(ctx, events[:n]...))
		events = events[n:]
	}
	q := projections.NewReadModel(store)
	a, err := q.Deliveries(ctx, "a")
	must(t, err)
	if len(a) != projections.KeptDeliveries || a[0].Delivery != "d55" || a[len(a)-1].Delivery != "d6" {
		t.Fatalf("trigger a keeps %d deliveries, from %q to %q; want %d, d55 to d6", len(a), a[0].Delivery, a[len(a)-1].Delivery, projections.KeptDeliveries)
	}
	if d := a[0]; d.RunID != "run-a-55" || d.Resource != "build/app-55" || d.Commit != "c55" || d.Event != "push" || !d.Time.Equal(time.Unix(55, 0)) {
		t.Errorf("the latest delivery of a: %+v", d)
	}
	b, err := q.Deliveries(ctx, "b")
	must(t, err)
	if len(b) != 2 || b[0].Delivery != "d2" {
		t.Errorf("trigger b: %+v", b)
	}
	seq++
	must(t, p.Project(ctx, &domain.TriggerDeleted{Meta: domain.Meta{ID: "del-a", Type: domain.TypeTriggerDeleted,
		Aggregate: domain.AggregateTrigger, AggregateID: "a", Sequence: seq}, Name: "a"}))
	if a, err := q.Deliveries(ctx, "a"); err != nil || len(a) != 0 {
		t.Errorf("a deleted trigger's deliveries: %d, %v", len(a), err)
	}
	if b, _ := q.Deliveries(ctx, "b"); len(b) != 2 {
		t.Errorf("another trigger's deliveries after a delete: %d", len(b))
	}
}
