package commands

import (
	"context"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// StartRun starts the run that a resource change asks for.
type StartRun struct {
	// Change is the ResourceCreated or ResourceUpdated event; its
	// correlation id is the Run ID handed to the client.
	Change domain.Event
}

// StartRun records RunStarted with the pipeline as it is now, and the
// dispatch of its first step. It does
// nothing (and returns no error) when the resource names no pipeline or the
// run was already started, so a redelivered change starts one run only. A
// pipeline deleted before the run could start is recorded as a run that
// failed at once, so the client's Run ID still ends.
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
	return h.updateRun(ctx, h.background, meta.CorrelationID, meta.ID, func(run *domain.RunAggregate, cause domain.Cause) error {
		if run.Exists() {
			return nil
		}
		if !p.Exists() {
			return run.StartWithoutPipeline(meta.CorrelationID, trigger, pipeline, res, meta.Version,
				fmt.Sprintf("pipeline %q does not exist any more", res.Pipeline), cause)
		}
		if err := run.Start(meta.CorrelationID, trigger, pipeline, res, meta.Version, cause); err != nil {
			return err
		}
		// The first dispatch in the same go: one trip through the log less.
		run.Advance(h.cause(meta.CorrelationID, run.Changes()[0].EventMeta().ID))
		return nil
	})
}

// AdvanceRun makes a run progress after one of its events; causationID is
// the id of that event.
type AdvanceRun struct {
	RunID       string
	CausationID string
}

// Outcome is what a run command recorded and the run after it.
type Outcome struct {
	Run    domain.Run
	Events []domain.Event
}

// AdvanceRun records the run's next decision, if it has one (see
// domain.RunAggregate.Advance). It is idempotent.
func (h *Handler) AdvanceRun(ctx context.Context, c AdvanceRun) (Outcome, error) {
	return h.updateRun(ctx, h.background, c.RunID, c.CausationID, func(run *domain.RunAggregate, cause domain.Cause) error {
		run.Advance(cause)
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
}

// RecordDriverResult records DriverResultRecorded (a late or duplicate
// result is recorded as ignored) and, in the same go, the run's next
// decision: the next step's dispatch, or the run's end. An unknown run is
// domain.ErrNotFound.
func (h *Handler) RecordDriverResult(ctx context.Context, c RecordDriverResult) (Outcome, error) {
	return h.updateRun(ctx, h.background, c.RunID, c.MessageID, func(run *domain.RunAggregate, cause domain.Cause) error {
		if err := run.RecordResult(c.Step, c.Result, cause); err != nil {
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
	var out domain.Run
	_, err := h.updateRun(ctx, h.projector, c.RunID, c.RequestID, func(run *domain.RunAggregate, cause domain.Cause) error {
		err := run.Cancel(c.Reason, cause)
		out = run.State()
		return err
	})
	return out, err
}

// RetryRun resumes a failed run.
type RetryRun struct {
	RunID, RequestID string
}

// RetryRun records RunRetried; the engine then dispatches the failed step
// again as a new attempt.
func (h *Handler) RetryRun(ctx context.Context, c RetryRun) (domain.Run, error) {
	var out domain.Run
	_, err := h.updateRun(ctx, h.projector, c.RunID, c.RequestID, func(run *domain.RunAggregate, cause domain.Cause) error {
		err := run.Retry(cause)
		out = run.State()
		return err
	})
	return out, err
}

// updateRun loads a run, lets decide record events, and saves them. An
// unknown run id that is not a UUID-like name is domain.ErrNotFound.
func (h *Handler) updateRun(ctx context.Context, projector Projector, runID, causationID string,
	decide func(*domain.RunAggregate, domain.Cause) error) (Outcome, error) {
	if !domain.ValidRunID(runID) {
		return Outcome{}, fmt.Errorf("run %q: %w", runID, domain.ErrNotFound)
	}
	var run domain.RunAggregate
	l, err := h.load(ctx, domain.AggregateRun, runID, &run)
	if err != nil {
		return Outcome{}, err
	}
	if err := decide(&run, h.cause(runID, causationID)); err != nil {
		return Outcome{}, err
	}
	out := Outcome{Run: run.State(), Events: run.Changes()}
	if len(run.Changes()) == 0 {
		return out, nil
	}
	return out, h.saveWith(ctx, projector, l, &run)
}

// LoadRun returns the run as the event log has it: the write side's view,
// always current, for the engine's dispatch.
func (h *Handler) LoadRun(ctx context.Context, runID string) (domain.Run, error) {
	if !domain.ValidRunID(runID) {
		return domain.Run{}, fmt.Errorf("run %q: %w", runID, domain.ErrNotFound)
	}
	var run domain.RunAggregate
	if _, err := h.load(ctx, domain.AggregateRun, runID, &run); err != nil {
		return domain.Run{}, err
	}
	if !run.Exists() {
		return domain.Run{}, fmt.Errorf("run %s: %w", runID, domain.ErrNotFound)
	}
	return run.State(), nil
}
