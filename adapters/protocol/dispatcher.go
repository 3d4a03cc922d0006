package protocol

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/conveyor/conveyor/engine"
	wire "github.com/conveyor/conveyor/sdk/protocol"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Dispatcher publishes the engine's work on the `messages` stream. Safe for
// concurrent use.
type Dispatcher struct {
	js   jetstream.JetStream
	sent sent

	mu     sync.Mutex
	stream jetstream.Stream // `messages`, once looked up
}

var _ engine.Dispatcher = (*Dispatcher)(nil)

// NewDispatcher returns a dispatcher publishing with js.
func NewDispatcher(js jetstream.JetStream) *Dispatcher { return &Dispatcher{js: js, sent: newSent()} }

// WorkSubject is where work goes: drivers.{driver}.resources.{type} for a
// pipeline step, drivers.{driver}.on.{set}.resources.{type} for a step
// with runsOn, resources.{type} for a fan-out to every driver of the type.
func WorkSubject(w engine.Work) string {
	if w.Driver != "" {
		return wire.StepWorkSubject(w.Driver, wire.LabelSet(w.RunsOn), w.Resource.Type)
	}
	return wire.FanOutSubject(w.Resource.Type)
}

// Dispatch publishes w with Nats-Msg-Id = w.MessageID, so a repeated
// dispatch within the stream's duplicate window is stored once. The engine
// repeats a step's dispatch on every look at its run (every heartbeat
// lease while the step runs, and after a crash), also past that window,
// when the stream would store the work a second time and hand it out again.
// So a step's work this dispatcher published and has not withdrawn is not
// published again, and a step dispatched longer ago than the window (by a
// server before a restart, or another one) is published only if the
// driver's subject does not hold it. It remembers where a step's work was
// stored, for Withdraw.
func (d *Dispatcher) Dispatch(ctx context.Context, w engine.Work) error {
	if w.Driver != "" {
		stored, err := d.alreadyStored(ctx, w)
		if err != nil || stored {
			return err
		}
	}
	payload, err := json.Marshal(w.Resource)
	if err != nil {
		return fmt.Errorf("encode resource: %w", err)
	}
	body, err := json.Marshal(wire.Work{Event: w.Event, Payload: string(payload), ID: w.MessageID,
		RunID: w.RunID, Step: w.Step, Attempt: w.Attempt, Secrets: w.Secrets, With: w.With})
	if err != nil {
		return err
	}
	msg := &nats.Msg{Subject: WorkSubject(w), Data: body, Header: nats.Header{}}
	ack, err := d.js.PublishMsg(ctx, msg, jetstream.WithMsgID(w.MessageID))
	if err != nil {
		return fmt.Errorf("dispatch %s on %s: %w", w.MessageID, msg.Subject, err)
	}
	if w.Driver != "" {
		d.sent.put(w.MessageID, ack.Sequence)
	}
	return nil
}

// trustDedupeFor is how long after a step's dispatch was recorded the
// stream's duplicate window is trusted to catch a repeat of its publish:
// half the window, leaving the rest for the time between recording and
// publishing and for clocks of other servers.
const trustDedupeFor = DuplicateWindow / 2

// alreadyStored reports whether the work of a step is in the stream
// already: this dispatcher stored it, or, for a dispatch recorded longer
// ago than the duplicate window covers, the driver's subject holds its
// message (found once, then remembered).
func (d *Dispatcher) alreadyStored(ctx context.Context, w engine.Work) (bool, error) {
	if d.sent.has(w.MessageID) {
		return true, nil
	}
	if w.DispatchedAt.IsZero() || time.Since(w.DispatchedAt) < trustDedupeFor {
		return false, nil
	}
	stream, err := d.messages(ctx)
	if err != nil {
		return false, err
	}
	seq, found, err := findByID(ctx, stream, WorkSubject(w), w.MessageID)
	if found {
		d.sent.put(w.MessageID, seq)
	}
	return found, err
}
