package protocol

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/conveyor/conveyor/engine"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// workMessage is the body of a message to drivers (PROTOCOL.md). Payload is
// the resource as a JSON string; step and attempt are extensions.
type workMessage struct {
	Event   string `json:"event"`
	Payload string `json:"payload"`
	ID      string `json:"id"`
	RunID   string `json:"run_id"`
	Step    string `json:"step,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	// Secrets names the secrets the step is granted (an extension).
	Secrets []string `json:"secrets,omitempty"`
}

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
// pipeline step, resources.{type} for a fan-out to every driver of the type.
func WorkSubject(w engine.Work) string {
	if w.Driver != "" {
		return "drivers." + w.Driver + ".resources." + w.Resource.Type
	}
	return "resources." + w.Resource.Type
}

// Dispatch publishes w with Nats-Msg-Id = w.MessageID, so a repeated
// dispatch within the stream's duplicate window is stored once. It
// remembers where a step's work was stored, for Withdraw.
func (d *Dispatcher) Dispatch(ctx context.Context, w engine.Work) error {
	payload, err := json.Marshal(w.Resource)
	if err != nil {
		return fmt.Errorf("encode resource: %w", err)
	}
	body, err := json.Marshal(workMessage{Event: w.Event, Payload: string(payload), ID: w.MessageID,
		RunID: w.RunID, Step: w.Step, Attempt: w.Attempt, Secrets: w.Secrets})
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
