package protocol

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	wire "github.com/conveyor/conveyor/sdk/protocol"
	"github.com/nats-io/nats.go"
)

// HeartbeatSubject is where drivers built on the SDK say, while they work on
// a step, that they are alive: core NATS, {HeartbeatSubject}.{driver}.
const HeartbeatSubject = wire.HeartbeatSubject

// HeartbeatSubjectOf is the subject of driver's heartbeats, the only one
// its credentials let it send heartbeats on.
func HeartbeatSubjectOf(driver string) string { return wire.HeartbeatSubjectOf(driver) }

// Heartbeat is what a driver's heartbeat says.
type Heartbeat = wire.Heartbeat

// FollowHeartbeats hands every driver's heartbeats to note, with the time
// each arrived, until ctx ends. Each server hears them all: whichever
// decides a run knows whether its steps' drivers are alive.
func FollowHeartbeats(ctx context.Context, nc *nats.Conn, note func(driver string, hb Heartbeat, at time.Time)) error {
	sub, err := nc.Subscribe(HeartbeatSubject+".*", func(m *nats.Msg) {
		var hb Heartbeat
		if json.Unmarshal(m.Data, &hb) != nil || hb.RunID == "" || hb.Step == "" {
			return
		}
		note(strings.TrimPrefix(m.Subject, HeartbeatSubject+"."), hb, time.Now())
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	return sub.Unsubscribe()
}
