package projections

import (
	"context"
	"hash/fnv"
	"log/slog"

	"github.com/conveyor/conveyor/domain"
)

// Async projects events in the background: Project queues them and returns
// at once. Events of one aggregate are applied in the order queued, events
// of different aggregates side by side. It is for writers that need not
// read their own writes (the engine); the durable read-model consumer
// applies every event anyway, so an event lost here (a crash, an error) is
// only applied a little later.
type Async struct {
	p      *Projector
	queues []chan []domain.Event
	log    *slog.Logger
}

// NewAsync returns an asynchronous front of p with the given number of
// workers; call Run to start them.
func NewAsync(p *Projector, workers int, log *slog.Logger) *Async {
	if workers < 1 {
		workers = 1
	}
	a := &Async{p: p, queues: make([]chan []domain.Event, workers), log: log}
	for i := range a.queues {
		a.queues[i] = make(chan []domain.Event, 256)
	}
	return a
}

// Project queues events; it blocks only while the worker's queue is full.
func (a *Async) Project(ctx context.Context, events ...domain.Event) error {
	if len(events) == 0 {
		return nil
	}
	m := events[len(events)-1].EventMeta()
	h := fnv.New32a()
	h.Write([]byte(m.Aggregate + "/" + m.AggregateID))
	select {
	case a.queues[h.Sum32()%uint32(len(a.queues))] <- events:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run applies queued events until ctx ends.
func (a *Async) Run(ctx context.Context) error {
	done := make(chan struct{}, len(a.queues))
	for _, q := range a.queues {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case <-ctx.Done():
					return
				case events := <-q:
					if err := a.p.Project(ctx, events...); err != nil && ctx.Err() == nil {
						a.log.Debug("background projection failed; the read-model consumer will apply it", "err", err)
					}
				}
			}
		}()
	}
	for range a.queues {
		<-done
	}
	return nil
}
