package protocol

import (
	"context"
	"encoding/json"

	"github.com/conveyor/conveyor/engine"
	wire "github.com/conveyor/conveyor/sdk/protocol"
)

// StopSubject is where the server tells driver to stop work it was given:
// core NATS, conveyor.drivers.{driver}.stop. Only that driver may listen.
func StopSubject(driver string) string { return wire.StopSubject(driver) }

// Stop publishes the notice on the driver's stop subject. Nothing keeps
// it: a driver that is not connected has nothing running to stop, and the
// work it would get is withdrawn from `messages` beside the notice.
func (d *Dispatcher) Stop(ctx context.Context, s engine.Stop) error {
	body, err := json.Marshal(wire.Stop{RunID: s.RunID, Step: s.Step, Attempt: s.Attempt, Reason: s.Reason})
	if err != nil {
		return err
	}
	return d.js.Conn().Publish(StopSubject(s.Driver), body)
}
