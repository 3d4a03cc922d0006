package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
)

// TestSilentDriverTimesOutUnlessItSaidDone: a step whose driver sent a
// heartbeat and then fell silent for the lease times out; one whose driver
// said done (its result is on its way) does not, however long the result
// takes.
func TestSilentDriverTimesOutUnlessItSaidDone(t *testing.T) {
	w := newWorld(t)
	e := engine.New(w.cmd, &recorder{}, 4).WithTimers(nil, 300*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	silent, finished := w.created("silent"), w.created("finished")
	must(t, e.Handle(ctx, []domain.Event{silent}))
	must(t, e.Handle(ctx, []domain.Event{finished}))
	now := time.Now()
	e.Heartbeat(silent.CorrelationID, "compile", 1, now, false)
	e.Heartbeat(finished.CorrelationID, "compile", 1, now, false)
	e.Heartbeat(finished.CorrelationID, "compile", 1, now, true)

	deadline := time.Now().Add(10 * time.Second)
	for {
		if n, _ := w.count(silent.CorrelationID, domain.TypeStepTimedOut); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the silent driver's step did not time out")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second) // three leases past the done heartbeat
	if n, _ := w.count(finished.CorrelationID, domain.TypeStepTimedOut); n != 0 {
		t.Errorf("a step whose driver said done timed out %d times", n)
	}
}
