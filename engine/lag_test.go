package engine_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/schema"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
	"github.com/google/uuid"
)

// laggingStore loads a run without its last message the first `lag` times:
// what a load sees when the log delivered a message to the engine before
// the append that wrote it returned and was noted.
type laggingStore struct {
	commands.EventStore
	lag atomic.Int32
}

func (s *laggingStore) Load(ctx context.Context, aggregate, id string) ([]domain.Event, error) {
	events, err := s.EventStore.Load(ctx, aggregate, id)
	if err != nil || aggregate != domain.AggregateRun || len(events) == 0 || s.lag.Add(-1) < 0 {
		return events, err
	}
	last := events[len(events)-1].EventMeta().Sequence
	for len(events) > 0 && events[len(events)-1].EventMeta().Sequence == last {
		events = events[:len(events)-1]
	}
	return events, nil
}

// TestARetryIsPublishedWhenTheLoadLags: the engine handles a run's retry
// while a load of the run does not show it yet; it loads again rather than
// decide from the run as it was, so the retried step is published.
func TestARetryIsPublishedWhenTheLoadLags(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	change := w.created("app-4")
	runID := change.CorrelationID
	_, err := w.cmd.StartRun(ctx, commands.StartRun{Change: change})
	must(t, err)
	_, err = w.cmd.RecordDriverResult(ctx, commands.RecordDriverResult{RunID: runID, Step: "compile",
		Result: domain.DriverResult{Success: false, Driver: "compiler", Message: "broke"}})
	must(t, err)
	_, err = w.cmd.RetryRun(ctx, commands.RetryRun{RunID: runID})
	must(t, err)

	lagging := &laggingStore{EventStore: w.store}
	lagging.lag.Store(1)
	cmd, err := commands.New(commands.Deps{Store: lagging, Schemas: schema.New(), Resources: noResources{},
		Now: time.Now, NewID: uuid.NewString})
	must(t, err)
	d := &recorder{}
	e := engine.New(cmd, d, 4)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })

	messages := w.messages(runID)
	must(t, e.Handle(ctx, messages[len(messages)-1]))
	works := d.all()
	if len(works) != 1 || works[0].Attempt != 2 || works[0].Step != "compile" {
		t.Errorf("published %+v, want the compile step's attempt 2", works)
	}
	if lagging.lag.Load() > 0 {
		t.Error("the store never lagged: the test tests nothing")
	}
}
