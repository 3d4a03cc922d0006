package protocol

import (
	"context"
	"encoding/json"
	"time"

	"github.com/conveyor/conveyor/projections"
	"github.com/nats-io/nats.go/jetstream"
)

// BroadcastSubject is the core NATS subject the original Conveyor CI
// broadcasts DriverMessages on.
const BroadcastSubject = "application"

// Writer writes what the API accepts on behalf of drivers: log lines and
// broadcast messages.
type Writer struct {
	js jetstream.JetStream
}

// NewWriter returns a writer using js.
func NewWriter(js jetstream.JetStream) *Writer { return &Writer{js: js} }

// WriteLog stores line on logs.{runid} with the fields a driver publishes.
func (w *Writer) WriteLog(ctx context.Context, line projections.LogLine) error {
	body, err := json.Marshal(struct {
		RunID     string `json:"runid"`
		Driver    string `json:"driver"`
		Pipeline  string `json:"pipeline"`
		Timestamp string `json:"timestamp"`
		Message   string `json:"message"`
	}{line.RunID, line.Driver, line.Pipeline, line.Timestamp, line.Message})
	if err != nil {
		return err
	}
	_, err = w.js.Publish(ctx, "logs."+line.RunID, body)
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
