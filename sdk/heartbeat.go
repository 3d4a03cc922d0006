package sdk

import (
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// HeartbeatSubject is where a driver says, while it works on a pipeline
// step, that it is still alive: core NATS, {HeartbeatSubject}.{driver}. The
// server ends an attempt whose driver has sent heartbeats and then falls
// silent (killed, cut off) within seconds, instead of waiting for the
// step's timeout. Drivers of the original runtime send none, and are timed
// out by their steps' timeouts alone.
const HeartbeatSubject = protocol.HeartbeatSubject

// HeartbeatInterval is how often the SDK sends a heartbeat while a
// reconcile of a pipeline step runs.
const HeartbeatInterval = time.Second

// sendHeartbeats sends a heartbeat for the step at once and then every
// interval, until the returned stop is called, which sends a last one
// marked done. Heartbeats are best effort: one lost on the way is made up
// by the next.
func sendHeartbeats(nc *nats.Conn, driver string, w protocol.Work, interval time.Duration) (stop func()) {
	beat := protocol.Heartbeat{RunID: w.RunID, Step: w.Step, Attempt: w.Attempt, Driver: driver}
	body, _ := json.Marshal(beat)
	subject := protocol.HeartbeatSubjectOf(driver)
	return repeat(interval, func() { _ = nc.Publish(subject, body) }, func() {
		beat.Done = true
		last, _ := json.Marshal(beat)
		_ = nc.Publish(subject, last)
	})
}
