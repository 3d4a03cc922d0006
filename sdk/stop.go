package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
)

// ErrWorkStopped is the cause of a reconcile's context when the server told
// the driver to stop that work: its run was cancelled or ended, or its
// attempt timed out. context.Cause(ctx) wraps it with the server's reason;
// check with errors.Is.
var ErrWorkStopped = errors.New("sdk: the server stopped this work")

// StopSubject is where the server tells a driver to stop work it was
// given: core NATS, conveyor.drivers.{driver}.stop, with
// {"run_id","step","attempt","reason"}.
func StopSubject(driver string) string { return "conveyor.drivers." + driver + ".stop" }

type stopNotice struct {
	RunID   string `json:"run_id"`
	Step    string `json:"step"`
	Attempt int    `json:"attempt"`
	Reason  string `json:"reason"`
}

func workKey(runID, step string, attempt int) string {
	return runID + "/" + step + "/" + strconv.Itoa(attempt)
}

// recentStops is how many stop notices a manager remembers, so that work
// delivered after its notice (it was on its way when the server withdrew
// it) is not started at all.
const recentStops = 1024

// inflight tracks the reconciles under way, to stop them on notice.
type inflight struct {
	mu      sync.Mutex
	running map[string]running
	stopped map[string]string // key → reason, the recent notices
	order   []string
}

type running struct {
	cancel context.CancelCauseFunc
	logger *Logger
}

func newInflight() *inflight {
	return &inflight{running: map[string]running{}, stopped: map[string]string{}}
}

// start registers the work of key and returns its context; ok is false
// when a notice to stop it came already.
func (f *inflight) start(ctx context.Context, key string, logger *Logger) (context.Context, func(), string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if reason, done := f.stopped[key]; done {
		return nil, nil, reason, false
	}
	ctx, cancel := context.WithCancelCause(ctx)
	f.running[key] = running{cancel: cancel, logger: logger}
	return ctx, func() {
		f.mu.Lock()
		delete(f.running, key)
		f.mu.Unlock()
		cancel(nil)
	}, "", true
}

// stop cancels the work of key, if it runs here, and remembers the notice.
func (f *inflight) stop(key, reason string) bool {
	f.mu.Lock()
	if _, seen := f.stopped[key]; !seen {
		f.stopped[key] = reason
		f.order = append(f.order, key)
		if len(f.order) > recentStops {
			delete(f.stopped, f.order[0])
			f.order = f.order[1:]
		}
	}
	r, ok := f.running[key]
	f.mu.Unlock()
	if ok {
		r.logger.stop(reason)
		r.cancel(fmt.Errorf("%w: %s", ErrWorkStopped, reason))
	}
	return ok
}

// followStops subscribes to the driver's stop notices.
func (m *Manager) followStops(nc *nats.Conn) (*nats.Subscription, error) {
	return nc.Subscribe(StopSubject(m.d.Name()), func(msg *nats.Msg) {
		var n stopNotice
		if json.Unmarshal(msg.Data, &n) != nil || n.RunID == "" {
			return
		}
		if m.work.stop(workKey(n.RunID, n.Step, n.Attempt), n.Reason) {
			m.opts.logger.Info("stopping work: "+n.Reason, "driver", m.d.Name(), "run", n.RunID, "step", n.Step, "attempt", n.Attempt)
		}
	})
}
