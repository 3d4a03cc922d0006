package main

import (
	"context"
	"errors"
	"sync"

	"github.com/conveyor/conveyor/domain"
	"github.com/nats-io/nats.go/jetstream"
)

// reportGate holds the status reporter back until there is something to
// report: a trigger that reports runs to a git host. Until then no
// consumer reads the run events a second time, so a server whose triggers
// report nothing (or that has none) pays nothing per run for reporting.
// It opens at the log position of the first such trigger's save, where
// the reporter's consumer starts the first time (no run that trigger
// starts can come before it); once that consumer exists, the gate opens
// at start, and the consumer resumes where it stood. Deleting every
// reporting trigger leaves it open.
type reportGate struct {
	once sync.Once
	at   uint64
	open chan struct{}
}

func newReportGate() *reportGate { return &reportGate{open: make(chan struct{})} }

// note opens the gate at a trigger's save when the trigger reports.
func (g *reportGate) note(e domain.Event) {
	if saved, ok := e.(*domain.TriggerSaved); ok && saved.Trigger.Report != nil {
		g.openAt(max(saved.EventMeta().Sequence, 1))
	}
}

// openIfConsumed opens the gate when the reporter's consumer exists.
func (g *reportGate) openIfConsumed(ctx context.Context, js jetstream.JetStream, stream string) error {
	_, err := js.Consumer(ctx, stream, reporterConsumer)
	switch {
	case err == nil:
		g.openAt(1)
	case !errors.Is(err, jetstream.ErrConsumerNotFound):
		return err
	}
	return nil
}

func (g *reportGate) openAt(seq uint64) {
	g.once.Do(func() {
		g.at = seq
		close(g.open)
	})
}

// wait returns the position the reporter's consumer starts at, once the
// gate opens; false when ctx ends first.
func (g *reportGate) wait(ctx context.Context) (uint64, bool) {
	select {
	case <-g.open:
		return g.at, true
	case <-ctx.Done():
		return 0, false
	}
}
