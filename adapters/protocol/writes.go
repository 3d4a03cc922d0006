package protocol

import (
	"context"
	"encoding/json"
	"time"

	"github.com/conveyor/conveyor/projections"
	wire "github.com/conveyor/conveyor/sdk/protocol"
	"github.com/nats-io/nats.go/jetstream"
)

// BroadcastSubject is the core NATS subject the original Conveyor CI
// broadcasts DriverMessages on.
const BroadcastSubject = wire.BroadcastSubject

// Writer writes what the API accepts on behalf of drivers: log lines and
// broadcast messages.
type Writer struct {
	js jetstream.JetStream
}

// NewWriter returns a writer using js.
func NewWriter(js jetstream.JetStream) *Writer { return &Writer{js: js} }

// WriteLog stores line on logs.{runid} with the fields a driver publishes.
func (w *Writer) WriteLog(ctx context.Context, line projections.LogLine) error {
	body, err := json.Marshal(wire.LogLine{RunID: line.RunID, Driver: line.Driver, Pipeline: line.Pipeline,
		Timestamp: wire.Timestamp(line.Timestamp), Message: line.Message, Labels: map[string]string{}})
	if err != nil {
		return err
	}
	_, err = w.js.Publish(ctx, wire.LogSubject(line.RunID), body)
	return err
}

// Broadcast publishes message on BroadcastSubject over core NATS.
func (w *Writer) Broadcast(ctx context.Context, message []byte) error {
	nc := w.js.Conn()
	if err := nc.Publish(BroadcastSubject, message); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return nc.FlushWithContext(ctx)
}
