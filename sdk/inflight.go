package sdk

import (
	"context"
	"strconv"
	"sync"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// attemptKey names one attempt of a step: {run_id}.{step}.{attempt}, which
// is also the Nats-Msg-Id of its work message (docs/protocol.md).
func attemptKey(runID, step string, attempt int) string {
	return runID + "." + step + "." + strconv.Itoa(attempt)
}

// idempotencyKey is what a piece of work is recognised by when it comes
// again: the attempt for a pipeline step, the message id for other work (a
// fan-out of one resource change), "" when the work carries neither.
func idempotencyKey(w protocol.Work) string {
	if w.RunID != "" && w.Step != "" {
		return attemptKey(w.RunID, w.Step, w.Attempt)
	}
	return w.ID
}

// recentSize bounds the finished work and the stop notices a manager
// remembers. A redelivery after a server crash comes within seconds, when
// the work is among the last few hundred a process saw.
const recentSize = 4096

// recent is a bounded memory by key; past its size the oldest entry is
// forgotten. Not safe for concurrent use.
type recent[V any] struct {
	values map[string]V
	order  []string
}

func newRecent[V any]() recent[V] { return recent[V]{values: map[string]V{}} }

func (r *recent[V]) add(key string, v V) {
	if _, seen := r.values[key]; !seen {
		r.order = append(r.order, key)
	}
	r.values[key] = v
	if len(r.order) > recentSize {
		delete(r.values, r.order[0])
		r.order = r.order[1:]
	}
}

func (r *recent[V]) get(key string) (V, bool) {
	v, ok := r.values[key]
	return v, ok
}

// execution is one run of a piece of work in this process.
type execution struct {
	cancel context.CancelCauseFunc
	logger *Logger
	// settled is closed, under the inflight's lock and before the work's
	// message is settled with the server, once its result is stored or it is
	// handed back; acked, written before, says which.
	settled chan struct{}
	acked   bool
}

// inflight tracks the work of this process by idempotency key: what runs,
// to stop it on notice and to recognise a second delivery of it; what ran
// and had its result stored, to recognise a delivery that comes again after
// it; and the recent stop notices, so work delivered after its notice is
// not started at all. Safe for concurrent use.
type inflight struct {
	mu       sync.Mutex
	running  map[string]*execution
	finished recent[*execution]
	stopped  recent[string] // key → the reason of the notice
}

func newInflight() *inflight {
	return &inflight{running: map[string]*execution{}, finished: newRecent[*execution](), stopped: newRecent[string]()}
}

// admission is what begin decided for one delivery: run it (ctx and end),
// do not run it because the server stopped it (stopped), or do not run it
// because it runs or ran here already (earlier; stored when its result was
// stored by the time this delivery came).
type admission struct {
	ctx context.Context
	// end settles the work here: acked when its result is stored (or, for
	// work without a result, when it is done), not when it is handed back.
	// Call it before the message is settled with the server, so that a
	// delivery the server makes after that is recognised as settled. Calls
	// after the first do nothing.
	end     func(acked bool)
	stopped string
	earlier *execution
	stored  bool
}

// begin admits a delivery of the work of key. Work without a key is always
// run: nothing recognises it when it comes again.
func (f *inflight) begin(ctx context.Context, key string, logger *Logger) admission {
	f.mu.Lock()
	defer f.mu.Unlock()
	if key != "" {
		if reason, ok := f.stopped.get(key); ok {
			return admission{stopped: reason}
		}
		if e, ok := f.running[key]; ok {
			return admission{earlier: e}
		}
		if e, ok := f.finished.get(key); ok {
			return admission{earlier: e, stored: true}
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	e := &execution{cancel: cancel, logger: logger, settled: make(chan struct{})}
	if key != "" {
		f.running[key] = e
	}
	return admission{ctx: ctx, end: func(acked bool) {
		f.mu.Lock()
		defer f.mu.Unlock()
		select {
		case <-e.settled:
			return
		default:
		}
		if key != "" {
			delete(f.running, key)
			if acked {
				f.finished.add(key, e)
			}
		}
		e.acked = acked
		close(e.settled)
		cancel(nil)
	}}
}
