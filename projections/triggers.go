package projections

import (
	"context"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// triggersPrefix holds each trigger as last saved: triggers/{name}.
const triggersPrefix = "triggers/"

func triggerKey(name string) string { return triggersPrefix + name }

// TriggerView is a trigger with the aggregate version and log sequence of
// the last event applied to it.
type TriggerView struct {
	domain.Trigger
	AggregateVersion uint64 `json:"-"`
	Sequence         uint64 `json:"-"`
}

func triggerView(r record[domain.Trigger]) TriggerView {
	return TriggerView{r.Value, r.AggregateVersion, r.Sequence}
}

// Trigger reads one trigger; domain.ErrNotFound when absent.
func (q *ReadModel) Trigger(ctx context.Context, name string) (TriggerView, error) {
	r, err := get[domain.Trigger](ctx, q.store, triggerKey(name), fmt.Sprintf("trigger %q", name))
	return triggerView(r), err
}

// Triggers lists triggers by name.
func (q *ReadModel) Triggers(ctx context.Context, p Page) ([]TriggerView, string, error) {
	rs, next, err := list[domain.Trigger](ctx, q.store, triggersPrefix, p)
	return views(rs, next, err, triggerView)
}
