package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
)

// Engine is the process manager. It reacts to events of the log and turns
// them into commands and dispatches; its own decisions are events of the Run
// aggregate, so a crash at any point resumes from the log. Handle is
// idempotent: a redelivered event decides nothing new and dispatches with
// the same message id.
type Engine struct {
	cmd      *commands.Handler
	dispatch Dispatcher
}

// New returns an engine over the command handler and the dispatcher.
func New(cmd *commands.Handler, dispatch Dispatcher) *Engine {
	return &Engine{cmd: cmd, dispatch: dispatch}
}

// Aggregates are the event streams the engine consumes.
var Aggregates = []string{domain.AggregateResource, domain.AggregateRun}

// Handle reacts to one event of the log.
func (e *Engine) Handle(ctx context.Context, ev domain.Event) error {
	m := ev.EventMeta()
	switch ev := ev.(type) {
	case *domain.ResourceCreated:
		return e.onChange(ctx, ev, ev.Resource, "create")
	case *domain.ResourceUpdated:
		return e.onChange(ctx, ev, ev.Resource, "update")
	case *domain.ResourceDeleted:
		r := domain.Resource{ID: ev.ID, Name: ev.Name, Type: ev.Type, Metadata: map[string]string{}, Spec: []byte("{}")}
		return e.fanOut(ctx, m, r, "delete")
	case *domain.RunStarted, *domain.DriverResultRecorded, *domain.RunRetried:
		out, err := e.cmd.AdvanceRun(ctx, commands.AdvanceRun{RunID: m.AggregateID, CausationID: m.ID})
		if err != nil {
			return err
		}
		return e.dispatchDecided(ctx, out)
	case *domain.StepDispatched:
		return e.onDispatched(ctx, ev)
	}
	return nil
}

// onChange starts a run when the resource names a pipeline, and otherwise
// fans the change out to every driver of the resource's type.
func (e *Engine) onChange(ctx context.Context, ev domain.Event, r domain.Resource, event string) error {
	if r.Pipeline == "" {
		return e.fanOut(ctx, ev.EventMeta(), r, event)
	}
	out, err := e.cmd.StartRun(ctx, commands.StartRun{Change: ev})
	if err != nil {
		return err
	}
	return e.dispatchDecided(ctx, out)
}

func (e *Engine) fanOut(ctx context.Context, m *domain.Meta, r domain.Resource, event string) error {
	return e.dispatch.Dispatch(ctx, Work{Event: event, Resource: r, RunID: m.CorrelationID, MessageID: m.ID})
}

// dispatchDecided publishes at once the work a command just decided, with
// the run it has in hand. The StepDispatched event, when it reaches the
// engine, publishes it again with the same message id, which the stream
// stores once: that second publish is what makes a crash right here safe.
func (e *Engine) dispatchDecided(ctx context.Context, out commands.Outcome) error {
	for _, ev := range out.Events {
		if d, ok := ev.(*domain.StepDispatched); ok {
			if err := e.dispatchStep(ctx, out.Run, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// onDispatched publishes the work a StepDispatched decided, unless the run
// has moved past that attempt since (cancelled, or retried again).
func (e *Engine) onDispatched(ctx context.Context, ev *domain.StepDispatched) error {
	runID := ev.EventMeta().AggregateID
	run, err := e.cmd.LoadRun(ctx, runID)
	if err != nil {
		return fmt.Errorf("dispatch %s: %w", StepMessageID(runID, ev.Step, ev.Attempt), err)
	}
	return e.dispatchStep(ctx, run, ev)
}

func (e *Engine) dispatchStep(ctx context.Context, run domain.Run, ev *domain.StepDispatched) error {
	runID := ev.EventMeta().AggregateID
	if stale(run, ev) {
		return nil
	}
	return e.dispatch.Dispatch(ctx, Work{
		Driver: ev.Driver, Event: ev.Event, Resource: run.Payload(ev.Step), RunID: runID,
		Step: ev.Step, Attempt: ev.Attempt, MessageID: StepMessageID(runID, ev.Step, ev.Attempt),
	})
}

func stale(run domain.Run, ev *domain.StepDispatched) bool {
	if run.Status == domain.RunStatusCancelled {
		return true
	}
	for _, s := range run.Steps {
		if s.ID == ev.Step {
			return s.Attempt != ev.Attempt
		}
	}
	return true
}

// Result is a driver's result message as it arrived.
type Result struct {
	RunID     string
	Step      string
	Result    domain.DriverResult
	MessageID string
}

// ErrUnknownRun marks a result for a run that does not exist: retrying it
// cannot help, so the intake parks it.
var ErrUnknownRun = errors.New("unknown run")

// RecordResult turns a driver's result into the RecordDriverResult command
// and publishes the next step's work it decided.
func (e *Engine) RecordResult(ctx context.Context, r Result) error {
	out, err := e.cmd.RecordDriverResult(ctx, commands.RecordDriverResult{
		RunID: r.RunID, Step: r.Step, Result: r.Result, MessageID: r.MessageID})
	if errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("result for run %q: %w", r.RunID, ErrUnknownRun)
	}
	if err != nil {
		return err
	}
	return e.dispatchDecided(ctx, out)
}
