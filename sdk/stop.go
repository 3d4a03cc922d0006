package sdk

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// ErrWorkStopped is the cause of a reconcile's context when the server told
// the driver to stop that work: its run was cancelled or ended, or its
// attempt timed out. context.Cause(ctx) wraps it with the server's reason;
// check with errors.Is.
var ErrWorkStopped = errors.New("sdk: the server stopped this work")

// StopSubject is where the server tells a driver to stop work it was
// given: core NATS, conveyor.drivers.{driver}.stop, with
// {"run_id","step","attempt","reason"}.
func StopSubject(driver string) string { return protocol.StopSubject(driver) }

// stop cancels the work of key, if it runs here, and remembers the notice.
func (f *inflight) stop(key, reason string) bool {
	f.mu.Lock()
	if _, seen := f.stopped.get(key); !seen {
		f.stopped.add(key, reason)
	}
	e, ok := f.running[key]
	f.mu.Unlock()
	if ok {
		e.logger.stop(reason)
		e.cancel(fmt.Errorf("%w: %s", ErrWorkStopped, reason))
	}
	return ok
}

// followStops subscribes to the driver's stop notices.
func (m *Manager) followStops(nc *nats.Conn) (*nats.Subscription, error) {
	return nc.Subscribe(StopSubject(m.d.Name()), func(msg *nats.Msg) {
		var n protocol.Stop
		if json.Unmarshal(msg.Data, &n) != nil || n.RunID == "" {
			return
		}
		if m.work.stop(attemptKey(n.RunID, n.Step, n.Attempt), n.Reason) {
			m.opts.logger.Info("stopping work: "+n.Reason, "driver", m.d.Name(), "run", n.RunID, "step", n.Step, "attempt", n.Attempt)
		}
	})
}
