package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
)

// loadAggregate applies every event of the log's aggregates of kind
// aggregate, in order, to apply: the start of an in-memory table that
// followAggregate then keeps current. Fit for kinds with few events
// (tokens, triggers), never for runs.
func loadAggregate(ctx context.Context, store *eventstore.Store, aggregate string, apply func(domain.Event)) error {
	q := projections.EventQuery{Aggregate: aggregate, Limit: projections.MaxLimit}
	for {
		page, next, err := store.Events(ctx, q)
		if err != nil {
			return fmt.Errorf("load the %ss: %w", aggregate, err)
		}
		for _, raw := range page {
			e, err := domain.DecodeEvent(raw)
			if err != nil {
				return fmt.Errorf("load the %ss: %w", aggregate, err)
			}
			apply(e)
		}
		if next == 0 {
			return nil
		}
		q.After = next
	}
}

// followAggregate applies each event of kind aggregate appended after
// after() to apply until ctx ends, following again a second after it
// fails: a change made through any replica counts here within moments.
func followAggregate(ctx context.Context, store *eventstore.Store, aggregate string, after func() uint64, apply func(domain.Event), log *slog.Logger) error {
	for ctx.Err() == nil {
		q := projections.EventQuery{Aggregate: aggregate, After: after()}
		err := store.Follow(ctx, q, func(e domain.Event) error {
			apply(e)
			return nil
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("following the "+aggregate+"s of the log; again in a second", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}
