package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// RunState is a run as its caller last saw it: the state, the aggregate
// version and the log position of its last message. The engine keeps it in
// memory, so that deciding the next step of a run costs no read of the log.
type RunState struct {
	Run     domain.Run
	Version uint64
	LastSeq uint64
}

// aggregate rebuilds the run aggregate from the state, with a copy of the
// steps so that the caller's state is never changed.
func (s *RunState) aggregate() *domain.RunAggregate {
	run := s.Run
	run.Steps = append([]domain.StepState(nil), run.Steps...)
	return domain.RestoreRun(run, s.Version)
}

// Outcome is the run after a run command. State is nil when the run does
// not exist.
type Outcome struct {
	Run   domain.Run
	State *RunState
}

// StartRun starts the run that a resource change asks for.
type StartRun struct {
	// Change is the ResourceCreated or ResourceUpdated event; its
	// correlation id is the Run ID handed to the client.
	Change domain.Event
	// Known is the run as the caller holds it (nil: the caller knows no
	// such run, and it is assumed not to exist; the append's guard checks).
	Known *RunState
}

// StartRun records RunStarted with the pipeline as it is now, and the
// dispatch of its first step, in one message. It does nothing (and returns
// no error) when the resource names no pipeline or the run was already
// started, so a redelivered change starts one run only. A pipeline deleted
// before the run could start is recorded as a run that failed at once, so
// the client's Run ID still ends.
func (h *Handler) StartRun(ctx context.Context, c StartRun) (Outcome, error) {
	var res domain.Resource
	trigger := ""
	switch e := c.Change.(type) {
	case *domain.ResourceCreated:
		res, trigger = e.Resource, "create"
	case *domain.ResourceUpdated:
		res, trigger = e.Resource, "update"
	default:
		return Outcome{}, fmt.Errorf("start run: %T is not a resource change", c.Change)
	}
	meta := c.Change.EventMeta()
	if res.Pipeline == "" || meta.CorrelationID == "" {
		return Outcome{}, nil
	}
	var p domain.PipelineAggregate
	if _, err := h.load(ctx, domain.AggregatePipeline, res.Pipeline, &p); err != nil {
		return Outcome{}, err
	}
	pipeline := p.State()
	if !p.Exists() {
		pipeline = domain.Pipeline{Name: res.Pipeline, Resource: res.Type}
	}
	origin, err := h.originOf(ctx, meta)
	if err != nil {
		return Outcome{}, err
	}
	known := c.Known
	if known == nil {
		known = &RunState{} // a new Run ID: most likely no run yet
	}
	return h.decideRun(ctx, meta.CorrelationID, meta.ID, known, func(run *domain.RunAggregate, cause domain.Cause) error {
		if run.Exists() {
			return nil
		}
		if !p.Exists() {
			return run.StartWithoutPipeline(meta.CorrelationID, trigger, pipeline, res, meta.Version,
				fmt.Sprintf("pipeline %q does not exist any more", res.Pipeline), cause)
		}
		run.QueueInOrder(meta.Sequence)
		if err := run.StartFrom(meta.Actor, origin, meta.CorrelationID, trigger, pipeline, res, meta.Version, cause); err != nil {
			return err
		}
		run.Advance(h.cause(meta.CorrelationID, run.Changes()[0].EventMeta().ID))
		return nil
	})
}

// AdvanceRun makes a run progress; causationID is the id of the event that
// asked for it.
type AdvanceRun struct {
	RunID       string
	CausationID string
	Known       *RunState // nil: load the run from the log
	// Silent are the ids of steps whose drivers stopped sending heartbeats:
	// their attempts end as timed out.
	Silent []string
}

// AdvanceRun records the run's next decision, if it has one (see
// domain.RunAggregate.Advance). It is idempotent.
func (h *Handler) AdvanceRun(ctx context.Context, c AdvanceRun) (Outcome, error) {
	return h.decideRun(ctx, c.RunID, c.CausationID, c.Known, func(run *domain.RunAggregate, cause domain.Cause) error {
		run.AdvanceWithSilent(cause, c.Silent)
		return nil
	})
}

// RecordDriverResult is a driver's result as it arrived.
type RecordDriverResult struct {
	RunID  string
	Step   string // empty for drivers of the original runtime
	Result domain.DriverResult
	// MessageID identifies the result message; it is the causation id.
	MessageID string
	Known     *RunState // nil: load the run from the log
	// Sender is the driver identity that sent the result, as the transport
	// vouches for it; empty when it cannot tell (NATS without credentials).
	// A result from a sender the step was not dispatched to is
	// domain.ErrForeignResult and records nothing.
	Sender string
}

// RecordDriverResult records DriverResultRecorded (a late or duplicate
// result is recorded as ignored) and the run's next decision — the next
// step's dispatch, or the run's end — in one message, so that both are
// stored or neither. An unknown run is domain.ErrNotFound.
func (h *Handler) RecordDriverResult(ctx context.Context, c RecordDriverResult) (Outcome, error) {
	return h.decideRun(ctx, c.RunID, c.MessageID, c.Known, func(run *domain.RunAggregate, cause domain.Cause) error {
		if c.MessageID != "" {
			cause.EventID = domain.ResultEventID(c.RunID, c.MessageID)
		}
		result := c.Result
		if c.Sender != "" {
			if err := run.CheckSender(c.Step, result, c.Sender); err != nil {
				return err
			}
			result.Driver = c.Sender
		}
		result = withinLimits(result)
		if err := run.RecordResult(c.Step, result, cause); err != nil {
			return err
		}
		recorded := run.Changes()[len(run.Changes())-1].EventMeta().ID
		run.Advance(h.cause(c.RunID, recorded))
		return nil
	})
}

// CancelRun stops a running run.
type CancelRun struct {
	RunID, Reason, RequestID string
}

// CancelRun records RunCancelled; no further step is dispatched.
func (h *Handler) CancelRun(ctx context.Context, c CancelRun) (domain.Run, error) {
	out, err := h.decideRun(ctx, c.RunID, c.RequestID, nil, func(run *domain.RunAggregate, cause domain.Cause) error {
		return run.Cancel(c.Reason, cause)
	})
	return out.Run, err
}

// DecideStep approves or rejects a run's waiting approval step.
type DecideStep struct {
	RunID, Step, Comment, RequestID string
	Approve                         bool
}

// DecideStep records the decision, on behalf of the request's actor, and
// what the run does next, in one message.
func (h *Handler) DecideStep(ctx context.Context, c DecideStep) (domain.Run, error) {
	by := ""
	if a := ActorOf(ctx); a != nil {
		by = a.Name
	}
	out, err := h.decideRun(ctx, c.RunID, c.RequestID, nil, func(run *domain.RunAggregate, cause domain.Cause) error {
		return run.Decide(c.Step, c.Approve, by, c.Comment, cause)
	})
	return out.Run, err
}

// RetryRun resumes a failed run.
type RetryRun struct {
	RunID, RequestID string
}

// RetryRun records RunRetried and the new attempt's dispatch.
func (h *Handler) RetryRun(ctx context.Context, c RetryRun) (domain.Run, error) {
	out, err := h.decideRun(ctx, c.RunID, c.RequestID, nil, func(run *domain.RunAggregate, cause domain.Cause) error {
		if err := run.Retry(cause); err != nil {
			return err
		}
		run.Advance(h.cause(c.RunID, run.Changes()[0].EventMeta().ID))
		return nil
	})
	return out.Run, err
}

// decideRun lets decide record events on the run and appends them as one
// message. It starts from known when given, else from the log; when known
// turns out stale (the append's guard fails), it loads the run from the log
// and decides once more, so a caller's stale memory never becomes a
// conflict. An unknown run id that is not a UUID is domain.ErrNotFound.
func (h *Handler) decideRun(ctx context.Context, runID, causationID string, known *RunState,
	decide func(*domain.RunAggregate, domain.Cause) error) (Outcome, error) {
	if !domain.ValidRunID(runID) {
		return Outcome{}, fmt.Errorf("run %q: %w", runID, domain.ErrNotFound)
	}
	for {
		state := known
		if state == nil {
			loaded, err := h.LoadRun(ctx, runID)
			if err != nil && !errors.Is(err, domain.ErrNotFound) {
				return Outcome{}, err
			}
			state = &loaded
		}
		var run *domain.RunAggregate
		if state.Version == 0 {
			run = &domain.RunAggregate{}
		} else {
			run = state.aggregate()
		}
		run.UseConditions(h.conditions)
		if err := decide(run, h.cause(runID, causationID)); err != nil {
			return Outcome{}, err
		}
		out := Outcome{Run: run.State()}
		if run.Exists() {
			out.State = &RunState{Run: run.State(), Version: run.Version(), LastSeq: state.LastSeq}
		}
		if len(run.Changes()) == 0 {
			return out, nil
		}
		seq, err := h.append(ctx, state.LastSeq, run.Changes())
		if errors.Is(err, domain.ErrAlreadyStored) {
			// A repeat (a redelivered result): what it asks for is in the
			// log already; answer with the run as the log has it.
			loaded, lerr := h.LoadRun(ctx, runID)
			if lerr != nil {
				return Outcome{}, lerr
			}
			return Outcome{Run: loaded.Run, State: &loaded}, nil
		}
		if errors.Is(err, domain.ErrConflict) && known != nil {
			known = nil // stale: decide again on the log's state
			continue
		}
		if err != nil {
			return Outcome{}, err
		}
		out.State.LastSeq = seq
		return out, nil
	}
}

// LoadRun returns the run as the event log has it, with its version and
// last position: the write side's view, always current. A run that does not
// exist is domain.ErrNotFound.
func (h *Handler) LoadRun(ctx context.Context, runID string) (RunState, error) {
	if !domain.ValidRunID(runID) {
		return RunState{}, fmt.Errorf("run %q: %w", runID, domain.ErrNotFound)
	}
	var run domain.RunAggregate
	l, err := h.load(ctx, domain.AggregateRun, runID, &run)
	if err != nil {
		return RunState{}, err
	}
	if !run.Exists() {
		return RunState{}, fmt.Errorf("run %s: %w", runID, domain.ErrNotFound)
	}
	return RunState{Run: run.State(), Version: run.Version(), LastSeq: l.lastSeq}, nil
}

// withinLimits is result, or, when it is too large to record, a failure of
// the step that says why: the run cannot wait for a result it cannot store.
func withinLimits(result domain.DriverResult) domain.DriverResult {
	err := domain.CheckResultSize(result)
	if err == nil {
		return result
	}
	return domain.DriverResult{Success: false, Driver: result.Driver, Message: "the driver's result was refused: " + err.Error()}
}

// originOf is the webhook delivery behind a resource change a trigger
// made (its actor names the trigger, its causation id the delivery's
// TriggerFired); nil for another change.
func (h *Handler) originOf(ctx context.Context, change *domain.Meta) (*domain.RunOrigin, error) {
	if change.Actor == nil || change.Actor.Kind != domain.ActorTrigger {
		return nil, nil
	}
	events, err := h.store.Load(ctx, domain.AggregateDelivery, domain.FiredKey(change.Actor.Name, change.CausationID))
	if err != nil {
		return nil, fmt.Errorf("the delivery behind run %s: %w", change.CorrelationID, err)
	}
	for _, e := range events {
		if f, ok := e.(*domain.TriggerFired); ok {
			return &domain.RunOrigin{Event: f.Event, Commit: f.Commit, Ref: f.Ref, Delivery: f.Delivery, Report: f.Report}, nil
		}
	}
	return nil, nil
}
