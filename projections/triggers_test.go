package projections_test

import (
	"context"
	"errors"
	"testing"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
)

func TestTriggersProjected(t *testing.T) {
	ctx := context.Background()
	store := projections.NewMemStore()
	saved := func(seq uint64, name, version string) domain.Event {
		return &domain.TriggerSaved{Meta: domain.Meta{ID: name + version, Type: domain.TypeTriggerSaved, Aggregate: domain.AggregateTrigger,
			AggregateID: name, Sequence: seq}, Trigger: domain.Trigger{Name: name, Version: version, Source: domain.SourceGitHub}}
	}
	deleted := &domain.TriggerDeleted{Meta: domain.Meta{ID: "del", Type: domain.TypeTriggerDeleted, Aggregate: domain.AggregateTrigger,
		AggregateID: "b", Sequence: 4}, Name: "b"}
	must(t, projections.NewProjector(store).Project(ctx, saved(1, "a", "1"), saved(2, "b", "1"), saved(3, "a", "2"), deleted))
	q := projections.NewReadModel(store)
	a, err := q.Trigger(ctx, "a")
	must(t, err)
	if a.Version != "2" || a.Sequence != 3 {
		t.Errorf("trigger a: version %s at %d, want 2 at 3", a.Version, a.Sequence)
	}
	if _, err := q.Trigger(ctx, "b"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("deleted trigger b: %v, want not found", err)
	}
	all, _, err := q.Triggers(ctx, projections.Page{})
	must(t, err)
	if len(all) != 1 || all[0].Name != "a" {
		t.Errorf("triggers: %+v", all)
	}
}
