package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
)

// Engine is the process manager. It decides from a run's current state, not
// from the event that woke it, as a level-based controller does: whatever
// event arrives, a redelivered or replayed one included, it looks at the run
// and records the next decision if there is one, and publishes the work of
// a step that waits for its driver. A run that ended publishes nothing.
//
// Each run is decided by one worker at a time (runs are partitioned over
// the workers by Run ID); the engine remembers the runs it decided, so it
// neither reloads a run to react to its own events nor reads the log to
// record a result. Its decisions are events of the Run aggregate, each
// command's events one message, so a crash at any point resumes from the log.
type Engine struct {
	cmd      *commands.Handler
	dispatch Dispatcher
	runs     *runCache
	// queues hold each worker's work from the log; urgent, the drivers'
	// results, which a worker takes first: finishing the runs under way
	// comes before starting new ones.
	queues, urgent []chan task
	dispatched     atomic.Uint64
	timers         timers
	beats          beats
	lease          time.Duration
	due            DueRuns
}

type task struct {
	ctx  context.Context
	do   func(context.Context) error
	done chan error
}

// DefaultWorkers is how many runs are decided at once unless New is told:
// a decision mostly waits on the log, so many go on side by side.
const DefaultWorkers = 64

// New returns an engine over the command handler and the dispatcher with
// the given number of workers (0: DefaultWorkers). Call Run to start them.
func New(cmd *commands.Handler, dispatch Dispatcher, workers int) *Engine {
	if workers <= 0 {
		workers = DefaultWorkers
	}
	e := &Engine{cmd: cmd, dispatch: dispatch, runs: newRunCache(), queues: make([]chan task, workers), urgent: make([]chan task, workers),
		timers: timers{by: map[string]*wakeup{}}, beats: beats{last: map[string]map[string]beat{}}, lease: DefaultHeartbeatLease}
	for i := range e.queues {
		e.queues[i], e.urgent[i] = make(chan task), make(chan task)
	}
	return e
}

// Run runs the workers until ctx ends. A worker that panics fails its task,
// not the process.
func (e *Engine) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() { defer func() { done <- struct{}{} }(); e.watchTimers(ctx) }()
	for i, q := range e.queues {
		urgent := e.urgent[i]
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				var t task
				select {
				case t = <-urgent:
				default:
					select {
					case <-ctx.Done():
						return
					case t = <-urgent:
					case t = <-q:
					}
				}
				t.done <- safely(t.ctx, t.do)
			}
		}()
	}
	for range len(e.queues) + 1 {
		<-done
	}
	return nil
}

// WithTimers lets the engine find, at start and from time to time, the
// runs due soon whose timeouts and retries it must keep timers for, and sets
// how long a driver may be silent after a heartbeat (0: the default). Call
// it before Run.
func (e *Engine) WithTimers(due DueRuns, lease time.Duration) *Engine {
	e.due = due
	if lease > 0 {
		e.lease = lease
	}
	return e
}

func safely(ctx context.Context, do func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("engine: panic: %v", r)
		}
	}()
	return do(ctx)
}

// on runs do on the worker that owns runID and waits for it.
func (e *Engine) on(ctx context.Context, runID string, do func(context.Context) error) error {
	return e.onQueue(ctx, e.queues, runID, do)
}

// onQueue runs do on the worker that owns runID, through one of its queues.
func (e *Engine) onQueue(ctx context.Context, queues []chan task, runID string, do func(context.Context) error) error {
	h := fnv.New32a()
	h.Write([]byte(runID))
	if commands.ActorOf(ctx) == nil {
		ctx = commands.WithActor(ctx, Actor)
	}
	t := task{ctx: ctx, do: do, done: make(chan error, 1)}
	select {
	case queues[h.Sum32()%uint32(len(queues))] <- t:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-t.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Actor is the actor of the engine's decisions, unless the caller names
// another (a driver whose result is recorded).
var Actor = domain.Actor{Kind: domain.ActorServer, Name: "engine"}

// Aggregates are the event streams the engine consumes.
var Aggregates = []string{domain.AggregateResource, domain.AggregateRun, domain.AggregateConcurrency}

// Handle reacts to the events of one message of the log (one command's
// events, all of one aggregate): it withdraws the work of steps that no
// longer wait for it, and brings the run forward. It is idempotent.
func (e *Engine) Handle(ctx context.Context, events []domain.Event) error {
	if len(events) == 0 {
		return nil
	}
	first := events[0]
	m := first.EventMeta()
	switch ev := first.(type) {
	case *domain.ResourceCreated:
		return e.onChange(ctx, ev, ev.Resource, "create")
	case *domain.ResourceUpdated:
		return e.onChange(ctx, ev, ev.Resource, "update")
	case *domain.ResourceDeleted:
		r := domain.Resource{ID: ev.ID, Name: ev.Name, Type: ev.Type, Metadata: map[string]string{}, Spec: []byte("{}")}
		return e.fanOut(ctx, m, r, "delete")
	}
	if m.Aggregate == domain.AggregateConcurrency {
		return e.onGroup(ctx, events)
	}
	if m.Aggregate != domain.AggregateRun {
		return nil
	}
	last := events[len(events)-1].EventMeta()
	if err := e.withdrawDone(ctx, m.AggregateID, events); err != nil {
		return err
	}
	if e.decided(m.AggregateID, m.Sequence) {
		return nil // its own decision, its work published: nothing to wait in line for
	}
	return e.on(ctx, m.AggregateID, func(ctx context.Context) error {
		return e.reconcile(ctx, m.AggregateID, m.Sequence, last.ID)
	})
}

// reconcile brings a run forward after a message of it at position seq:
// nothing when this engine already knows the run up to there and published
// its work; otherwise it reads the run from the log, records the next
// decision if there is one, and publishes the work that waits.
func (e *Engine) reconcile(ctx context.Context, runID string, seq uint64, causationID string) error {
	if e.decided(runID, seq) {
		return nil
	}
	state, err := e.loadRunAtLeast(ctx, runID, seq)
	if errors.Is(err, domain.ErrNotFound) {
		return nil // nothing to decide on
	}
	if err != nil {
		return err
	}
	out, err := e.cmd.AdvanceRun(ctx, commands.AdvanceRun{RunID: runID, CausationID: causationID, Known: &state})
	if err != nil {
		e.runs.forget(runID)
		return err
	}
	return e.publishOutstanding(ctx, out.State)
}

// loadRunAtLeast loads the run as the log has it up to position seq at
// least (see runAtLeast).
func (e *Engine) loadRunAtLeast(ctx context.Context, runID string, seq uint64) (commands.RunState, error) {
	return runAtLeast(ctx, e.cmd.LoadRun, runID, seq)
}

// runAtLeast loads the run with load as the log has it up to position seq
// at least. The log can deliver a message to a consumer a moment before
// the server that appended it has noted it where loads look (its own
// append is still returning): a load then misses it, and deciding from it
// would decide from the past. So a load that ends before seq is repeated,
// briefly; after that the message is failed, to come again.
func runAtLeast(ctx context.Context, load func(context.Context, string) (commands.RunState, error), runID string, seq uint64) (commands.RunState, error) {
	for wait := time.Millisecond; ; wait *= 2 {
		state, err := load(ctx, runID)
		if err != nil || state.LastSeq >= seq {
			return state, err
		}
		if wait > 500*time.Millisecond {
			return state, fmt.Errorf("run %s: the log delivered position %d, a load of the run ends at %d", runID, seq, state.LastSeq)
		}
		select {
		case <-ctx.Done():
			return state, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// decided reports whether this engine knows the run up to position seq and
// published the work that waits at that point.
func (e *Engine) decided(runID string, seq uint64) bool {
	k, ok := e.runs.get(runID)
	return ok && k.lastSeq >= seq && k.published
}

// onChange starts a run when the resource names a pipeline, and otherwise
// fans the change out to every driver of the resource's type.
func (e *Engine) onChange(ctx context.Context, ev domain.Event, r domain.Resource, event string) error {
	m := ev.EventMeta()
	if r.Pipeline == "" || m.CorrelationID == "" {
		return e.fanOut(ctx, m, r, event)
	}
	runID := m.CorrelationID
	return e.on(ctx, runID, func(ctx context.Context) error {
		if k, ok := e.runs.get(runID); ok && k.published {
			return nil // started by this engine already
		}
		out, err := e.cmd.StartRun(ctx, commands.StartRun{Change: ev})
		if err != nil {
			e.runs.forget(runID)
			return err
		}
		return e.publishOutstanding(ctx, out.State)
	})
}

func (e *Engine) fanOut(ctx context.Context, m *domain.Meta, r domain.Resource, event string) error {
	return e.dispatch.Dispatch(ctx, Work{Event: event, Resource: r, RunID: m.CorrelationID, MessageID: m.ID})
}

// publishOutstanding remembers the run and publishes the work of each of its
// steps that waits for its driver, but the work this process published
// already (a run of many steps in flight, the instances of a matrix, would
// otherwise publish each again after every result). The message id is the
// step's, so a second publish (after a crash, or by another server) within
// the stream's duplicate window is stored once; past the window, the
// dispatcher finds the message it stored before (Dispatcher).
//
// First it settles a run of a concurrency group with its group (settle):
// a run is only known as published once that is done.
func (e *Engine) publishOutstanding(ctx context.Context, st *commands.RunState) error {
	if st == nil {
		return nil
	}
	st, err := e.settle(ctx, st)
	if err != nil {
		e.runs.forget(st.Run.ID)
		return err
	}
	before, _ := e.runs.get(st.Run.ID)
	sent := map[string]bool{}
	var errs []error
	for _, step := range outstanding(st.Run) {
		id := StepMessageID(st.Run.ID, step.ID, step.Attempt)
		if before.sent[id] {
			sent[id] = true
			continue
		}
		var dispatchedAt time.Time
		if step.DispatchedAt != nil {
			dispatchedAt = *step.DispatchedAt
		}
		err := e.dispatch.Dispatch(ctx, Work{
			Driver: step.Driver, RunsOn: st.Run.RunsOn(step.ID), Event: st.Run.WorkEvent(step.ID), Resource: st.Run.Payload(step.ID), RunID: st.Run.ID,
			Step: step.ID, Attempt: step.Attempt, MessageID: id,
			DispatchedAt: dispatchedAt, Secrets: st.Run.GrantedSecrets(step.ID), With: step.With,
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sent[id] = true
		e.dispatched.Add(1)
	}
	err = errors.Join(errs...)
	e.runs.put(st, err == nil, sent)
	e.schedule(st.Run)
	return err
}

// StepsDispatched is how many times this engine published a step's work
// since it started (a repeat after a crash or a lost race included). Each
// server of a cluster counts its own: it shows how the runs spread over
// them. Safe for concurrent use.
func (e *Engine) StepsDispatched() uint64 { return e.dispatched.Load() }

// ForgetRuns drops every run the engine remembers: each is read from the
// log again at its next event, as one it forgot for room would be. For a
// quiet moment, when the runs a burst left in memory are worth more as
// memory handed back. Safe for concurrent use.
func (e *Engine) ForgetRuns() { e.runs.forgetAll() }

// Result is a driver's result message as it arrived.
type Result struct {
	RunID     string
	Step      string
	Result    domain.DriverResult
	MessageID string
	// Sender is the driver identity the transport vouches for ("" when it
	// cannot tell); see commands.RecordDriverResult.
	Sender string
}

// ErrUnknownRun marks a result for a run that does not exist: retrying it
// cannot help, so the intake parks it.
var ErrUnknownRun = errors.New("unknown run")

// RecordResult records a driver's result on the run's worker, from the run
// as this engine holds it, together with the decision that follows, and
// publishes the next step's work. Once the result is stored, a failure to
// publish is not the result's error: the engine's consumer of the log
// publishes the waiting work when the stored decision reaches it.
func (e *Engine) RecordResult(ctx context.Context, r Result) error {
	if !domain.ValidRunID(r.RunID) {
		return fmt.Errorf("result for run %q: %w", r.RunID, ErrUnknownRun)
	}
	return e.onQueue(ctx, e.urgent, r.RunID, func(ctx context.Context) error {
		var st *commands.RunState
		if k, ok := e.runs.get(r.RunID); ok && k.state != nil {
			st = k.state
		}
		out, err := e.cmd.RecordDriverResult(ctx, commands.RecordDriverResult{
			RunID: r.RunID, Step: r.Step, Result: r.Result, MessageID: r.MessageID, Known: st, Sender: r.Sender})
		if errors.Is(err, domain.ErrNotFound) {
			return fmt.Errorf("result for run %q: %w", r.RunID, ErrUnknownRun)
		}
		if err != nil {
			e.runs.forget(r.RunID)
			return err
		}
		_ = e.publishOutstanding(ctx, out.State)
		return nil
	})
}
