package sdk

import (
	"crypto/rand"
	"encoding/json"
	"os"
	"runtime/debug"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// PresenceSubject is where a running driver announces itself: core NATS,
// {PresenceSubject}.{driver}, every PresenceInterval, and once more with
// "leaving" when it stops. The server lists what it hears at GET /drivers.
const PresenceSubject = protocol.PresenceSubject

// PresenceInterval is how often a driver announces itself.
const PresenceInterval = 5 * time.Second

// announce says the driver is here now and every interval, until the
// returned stop, which says it is leaving.
func (m *Manager) announce(nc *nats.Conn, interval time.Duration) (stop func()) {
	host, _ := os.Hostname()
	a := protocol.Presence{Driver: m.d.Name(), Instance: rand.Text()[:12], Resources: m.d.Resources(),
		Labels: m.opts.labels, Version: sdkVersion(), Host: host, Since: time.Now().UTC()}
	subject := protocol.PresenceSubjectOf(m.d.Name())
	send := func() {
		body, _ := json.Marshal(a)
		_ = nc.Publish(subject, body)
	}
	return repeat(interval, send, func() {
		a.Leaving = true
		send()
		_ = nc.Flush()
	})
}

// sdkVersion is the version of this module in the driver's build.
func sdkVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, dep := range info.Deps {
		if dep.Path == "github.com/conveyor/conveyor" {
			return dep.Version
		}
	}
	return info.Main.Version
}
