package sdk

import (
	"context"
	"encoding/json"
)

// Driver turns resource changes into work.
type Driver interface {
	// Name names the driver; it names its durable consumer, so it must stay
	// stable, and pipeline steps refer to it.
	Name() string
	// Resources are the resource types it listens to.
	Resources() []string
	// Reconcile does the work for one message. It must honour ctx: ctx ends
	// when the manager shuts down past its grace period (a reconcile still
	// running AbandonAfter later is abandoned, its work handed back).
	Reconcile(ctx context.Context, req Request) Result
}

// Request is one piece of work.
type Request struct {
	// Event is "create", "update", "delete" or "process" (a later step of a
	// pipeline).
	Event string
	// Resource is the resource, with the results of earlier steps in
	// Metadata["driverresults.{driver}"] (JSON strings).
	Resource Resource
	// RunID is the run this work belongs to; Step and Attempt say which step
	// and which try of it (empty and 0 for work outside a pipeline).
	RunID   string
	Step    string
	Attempt int
	// IdempotencyKey names this attempt of this step,
	// {run_id}.{step}.{attempt} (for work outside a pipeline, the message
	// id of the resource change). A process does not run the same key
	// twice at once, nor again once its result is stored. The key comes to
	// Reconcile again only for work that was not finished: the server or
	// the driver crashed while it ran, or it was handed back (at-least-once,
	// docs/durability.md). Key side effects by it to make them idempotent.
	IdempotencyKey string
	// Log writes lines into the run's log. It is an io.Writer too. A line
	// holding the value of one of Secrets is stored with the value masked.
	Log *Logger
	// Secrets are the values of the secrets the pipeline grants this step,
	// by name; empty for steps granted none.
	Secrets map[string]string
	// With is the step's parameters: the JSON object of its `with` in the
	// pipeline, its ${{ }} expressions evaluated by the server when it
	// dispatched the step; nil for a step without `with` (and for servers
	// that predate it). Decode it into a struct of the driver's own:
	// json.Unmarshal(req.With, &params).
	With json.RawMessage
}

// Result is what Reconcile reports.
type Result struct {
	Success bool
	Message string
	Data    map[string]any
}

// DriverFunc is a Reconcile function.
type DriverFunc func(ctx context.Context, req Request) Result

type funcDriver struct {
	name      string
	resources []string
	reconcile DriverFunc
}

// NewDriver makes a Driver of a name, the resource types it listens to, and
// a Reconcile function.
func NewDriver(name string, resources []string, reconcile DriverFunc) Driver {
	return funcDriver{name: name, resources: resources, reconcile: reconcile}
}

func (d funcDriver) Name() string                                      { return d.name }
func (d funcDriver) Resources() []string                               { return d.resources }
func (d funcDriver) Reconcile(ctx context.Context, req Request) Result { return d.reconcile(ctx, req) }
