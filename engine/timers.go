package engine

import (
	"context"
	"sync"
	"time"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
)

// Time-driven decisions: a step's timeout, a retry's wait, a run's timeout,
// a driver that stopped sending heartbeats. Nothing in the log wakes the
// engine for these, so it keeps a timer per run at the run's next due time
// and decides then. Timers live in memory: at start, and every RescanEvery
// after, the engine reads the runs due within the next two RescanEvery (the
// read models index runs by their next due time) and sets their timers, so
// a restart, or another server's crash in a cluster, loses none. What it
// reads follows the runs due soon, never the runs ever made.

// DefaultHeartbeatLease is how long a step's driver may be silent, once it
// has sent a heartbeat, before its attempt ends as timed out. The SDK sends
// one every second, so four in a row must go missing.
const DefaultHeartbeatLease = 4 * time.Second

// RescanEvery is how often the engine reads the runs due soon to set timers
// that another server, now gone, held.
const RescanEvery = 30 * time.Second

// DueRuns lists the runs that have not ended and are due at or before until,
// as the read models have them.
type DueRuns func(ctx context.Context, until time.Time) ([]domain.Run, error)

// timers are the pending wake-ups, by run.
type timers struct {
	mu  sync.Mutex
	ctx context.Context
	by  map[string]*wakeup
}

type wakeup struct {
	at    time.Time
	timer *time.Timer
}

// beats are the last heartbeats of the steps in flight, by run and step.
type beats struct {
	mu   sync.Mutex
	last map[string]map[string]beat
}

type beat struct {
	attempt int
	at      time.Time
}

// Heartbeat notes that the driver of a run's step, at attempt, was alive at
// at. Once a step has sent one, silence longer than the lease ends its
// attempt, unless its last heartbeat said done: the driver finished with it
// (its result is stored, or it handed the work back to another instance).
// Safe for concurrent use.
func (e *Engine) Heartbeat(runID, step string, attempt int, at time.Time, done bool) {
	e.beats.mu.Lock()
	steps := e.beats.last[runID]
	if done {
		// Nothing more to watch: forgetting the step also keeps the table
		// from growing with runs that ended before their last heartbeat.
		delete(steps, step)
		if len(steps) == 0 {
			delete(e.beats.last, runID)
		}
		e.beats.mu.Unlock()
		return
	}
	if steps == nil {
		steps = map[string]beat{}
		e.beats.last[runID] = steps
	}
	steps[step] = beat{attempt: attempt, at: at}
	e.beats.mu.Unlock()
	e.wakeAt(runID, at.Add(e.lease))
}

// silent is the ids of the run's steps in flight whose drivers sent a
// heartbeat for their attempt and none for the lease since, at now.
func (e *Engine) silent(run domain.Run, now time.Time) []string {
	e.beats.mu.Lock()
	defer e.beats.mu.Unlock()
	steps := e.beats.last[run.ID]
	var out []string
	for _, s := range run.InFlight() {
		if b, ok := steps[s.ID]; ok && b.attempt == s.Attempt && now.Sub(b.at) >= e.lease {
			out = append(out, s.ID)
		}
	}
	return out
}

// leaseEnd is the earliest time a step of the run in flight becomes silent.
func (e *Engine) leaseEnd(run domain.Run) (time.Time, bool) {
	e.beats.mu.Lock()
	defer e.beats.mu.Unlock()
	steps := e.beats.last[run.ID]
	var end time.Time
	for _, s := range run.InFlight() {
		if b, ok := steps[s.ID]; ok && b.attempt == s.Attempt && (end.IsZero() || b.at.Add(e.lease).Before(end)) {
			end = b.at.Add(e.lease)
		}
	}
	return end, !end.IsZero()
}

// schedule sets the run's timer to its next due time, or drops it and the
// run's heartbeats when the run has ended.
func (e *Engine) schedule(run domain.Run) {
	if run.Ended() {
		e.beats.mu.Lock()
		delete(e.beats.last, run.ID)
		e.beats.mu.Unlock()
		e.timers.mu.Lock()
		if w := e.timers.by[run.ID]; w != nil {
			w.timer.Stop()
			delete(e.timers.by, run.ID)
		}
		e.timers.mu.Unlock()
		return
	}
	if due := run.NextDue(); due != nil {
		e.wakeAt(run.ID, *due)
	}
	if end, ok := e.leaseEnd(run); ok {
		e.wakeAt(run.ID, end)
	}
}

// wakeAt makes the engine decide on the run at at, unless a wake-up at or
// before at is already set.
func (e *Engine) wakeAt(runID string, at time.Time) {
	e.timers.mu.Lock()
	defer e.timers.mu.Unlock()
	if w := e.timers.by[runID]; w != nil {
		if !w.at.After(at) {
			return
		}
		w.timer.Stop()
	}
	w := &wakeup{at: at}
	w.timer = time.AfterFunc(time.Until(at), func() { e.wake(runID, w) })
	e.timers.by[runID] = w
}

func (e *Engine) wake(runID string, w *wakeup) {
	e.timers.mu.Lock()
	if e.timers.by[runID] == w {
		delete(e.timers.by, runID)
	}
	ctx := e.timers.ctx
	e.timers.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	if err := e.on(ctx, runID, func(ctx context.Context) error { return e.decideNow(ctx, runID) }); err != nil && ctx.Err() == nil {
		e.wakeAt(runID, time.Now().Add(time.Second)) // try again shortly
	}
}

// decideNow brings the run forward at the present time: timeouts, retries
// and silent drivers, then whatever that makes ready.
func (e *Engine) decideNow(ctx context.Context, runID string) error {
	st, err := e.current(ctx, runID)
	if err != nil {
		return err
	}
	out, err := e.cmd.AdvanceRun(ctx, commands.AdvanceRun{RunID: runID, CausationID: "timer", Known: st,
		Silent: e.silent(st.Run, time.Now())})
	if err != nil {
		e.runs.forget(runID)
		return err
	}
	if out.State == nil {
		return nil
	}
	return e.publishOutstanding(ctx, out.State)
}

// rescan sets the timers of the runs due before the rescan after next.
func (e *Engine) rescan(ctx context.Context, due DueRuns) {
	runs, err := due(ctx, time.Now().Add(2*RescanEvery))
	if err != nil {
		return // the next rescan tries again
	}
	for _, r := range runs {
		e.schedule(r)
	}
}

// watchTimers keeps the timers: it rescans at start and every RescanEvery
// until ctx ends.
func (e *Engine) watchTimers(ctx context.Context) {
	e.timers.mu.Lock()
	e.timers.ctx = ctx
	e.timers.mu.Unlock()
	if e.due == nil {
		return
	}
	tick := time.NewTicker(RescanEvery)
	defer tick.Stop()
	for {
		e.rescan(ctx, e.due)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
