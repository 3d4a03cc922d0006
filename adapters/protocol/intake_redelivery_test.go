package protocol_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/engine"
	"github.com/google/uuid"
)

// TestIntakeCountsRedeliveries: a result whose recording fails once is
// given again, recorded then, and the redelivery is reported.
func TestIntakeCountsRedeliveries(t *testing.T) {
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := protocol.EnsureStreams(ctx, js, protocol.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	var calls, redelivered atomic.Int32
	recorded := make(chan engine.Result, 1)
	record := func(_ context.Context, r engine.Result) error {
		if calls.Add(1) == 1 {
			return errors.New("the event store did not answer")
		}
		recorded <- r
		return nil
	}
	cfg := protocol.IntakeConfig{NakDelay: 10 * time.Millisecond, Redelivered: func() { redelivered.Add(1) }}
	go func() { _ = protocol.RunIntake(ctx, js, cfg, record) }()
	runID := uuid.NewString()
	body := `{"event":"driver.result","run_id":"` + runID + `","step":"compile","driverresult":{"success":true,"driver":"compiler"}}`
	if _, err := js.Publish(ctx, protocol.DriverResultSubject("compiler"), []byte(body)); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-recorded:
		if r.RunID != runID || r.Sender != "compiler" {
			t.Errorf("recorded %+v", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the result was not recorded on its second delivery")
	}
	// The redelivery is reported beside the recording, not before it: give
	// it a moment.
	for deadline := time.Now().Add(5 * time.Second); redelivered.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if calls.Load() != 2 || redelivered.Load() != 1 {
		t.Errorf("%d recordings, %d redeliveries reported; want 2 and 1", calls.Load(), redelivered.Load())
	}
}
