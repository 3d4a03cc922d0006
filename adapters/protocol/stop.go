package protocol

import (
	"context"
	"encoding/json"

	"github.com/conveyor/conveyor/engine"
)

// StopSubject is where the server tells driver to stop work it was given:
// core NATS, conveyor.drivers.{driver}.stop. Only that driver may listen.
func StopSubject(driver string) string { return "conveyor.drivers." + driver + ".stop" }

// stopMessage is the body of a stop notice.
type stopMessage struct {
	RunID   string `json:"run_id"`
	Step    string `json:"step"`
	Attempt int    `json:"attempt"`
	Reason  string `json:"reason"`
}

// Stop publishes the notice on the driver's stop subject. Nothing keeps
// it: a driver that is not connected has nothing running to stop, and the
// work it would get is withdrawn from `messages` beside the notice.
func (d *Dispatcher) Stop(ctx context.Context, s engine.Stop) error {
	body, err := json.Marshal(stopMessage{RunID: s.RunID, Step: s.Step, Attempt: s.Attempt, Reason: s.Reason})
	if err != nil {
		return err
	}
	return d.js.Conn().Publish(StopSubject(s.Driver), body)
}
