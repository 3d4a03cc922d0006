package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conveyor/conveyor/adapters/protocol"
)

// settleWithin bounds the wait for a server to finish the work it was
// handed before its idle CPU is measured.
const settleWithin = 3 * time.Minute

// settle waits until the server has no work left that it was handed: the
// engine's consumer of the log and the intake of the drivers' results hold
// no message it has not acknowledged, and the read models have reached the
// end of the log, twice in a row 200 ms apart. An idle
// server is one with nothing to do; the time it took is reported beside
// its idle CPU, so the tail of the work before is not hidden.
func settle(ctx context.Context, natsURL, api, token string) (time.Duration, error) {
	nc, err := nats.Connect(natsURL)
	if err != nil {
		return 0, fmt.Errorf("settle: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	quiet := 0
	for quiet < 2 {
		if time.Since(start) > settleWithin {
			return 0, fmt.Errorf("the server still had work after %v", settleWithin)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		busy, err := consumersBusy(ctx, js)
		if err != nil {
			return 0, err
		}
		lag, err := serverMetric(ctx, api, token, projectorLagMetric)
		if err != nil {
			return 0, err
		}
		busy = busy || lag > 0
		if quiet++; busy {
			quiet = 0
		}
	}
	return time.Since(start), nil
}

// projectorLagMetric is how far the read models are behind the log.
const projectorLagMetric = "conveyor_projector_lag_events"

// consumersBusy reports whether the engine's consumers hold messages not
// yet handled.
func consumersBusy(ctx context.Context, js jetstream.JetStream) (bool, error) {
	for _, c := range []struct{ stream, name string }{{"CONVEYOR_EVENTS", engineConsumer}, {protocol.EngineStream, protocol.IntakeConsumer}} {
		cons, err := js.Consumer(ctx, c.stream, c.name)
		if err != nil {
			return false, fmt.Errorf("settle: consumer %s: %w", c.name, err)
		}
		info := cons.CachedInfo()
		if info.NumPending > 0 || info.NumAckPending > 0 {
			return true, nil
		}
	}
	return false, nil
}
