package sdk

import (
	"encoding/json"
	"fmt"
	"time"
)

// Resource is a resource as drivers and clients see it. Type is the name of
// its definition (the JSON field "resource").
type Resource struct {
	ID       string            `json:"id,omitempty"`
	Name     string            `json:"name"`
	Type     string            `json:"resource"`
	Pipeline string            `json:"pipeline,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Spec     json.RawMessage   `json:"spec"`
}

// ResourceDefinition is a named kind of resource with a JSON Schema.
type ResourceDefinition struct {
	ID          string          `json:"id,omitempty"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Version     string          `json:"version,omitempty"`
	Schema      json.RawMessage `json:"schema"`
	// FormatAssertion refuses specs whose strings break the schema's
	// "format" keywords; without it format is an annotation only.
	FormatAssertion bool `json:"formatAssertion,omitempty"`
	// Unchanged, on an answer to an apply, says that the definition was
	// already so: nothing was written.
	Unchanged bool `json:"-"`
}

// Pipeline orders drivers over one resource type.
type Pipeline struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Version     string            `json:"version,omitempty"`
	Resource    string            `json:"resource"`
	Steps       []Step            `json:"steps"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	// Timeout bounds a whole run (a Go duration string such as "1h").
	Timeout string `json:"timeout,omitempty"`
	// Concurrency bounds the runs of the pipeline that go on at once in a
	// group (see docs/pipelines.md).
	Concurrency *Concurrency `json:"concurrency,omitempty"`
	// Warnings, on an answer to a save, name the steps whose drivers never
	// connected (most likely a typo); Unchanged says that the pipeline was
	// already so: nothing was written, the version stays.
	Warnings  []string `json:"-"`
	Unchanged bool     `json:"-"`
}

// DriverView is a driver as the server knows it.
type DriverView struct {
	Name      string           `json:"name"`
	Resources []string         `json:"resources"`
	Connected bool             `json:"connected"`
	Instances []DriverInstance `json:"instances"`
	Pending   uint64           `json:"pending"`
	InFlight  uint64           `json:"inFlight"`
}

// DriverInstance is one running process of a driver.
type DriverInstance struct {
	ID       string    `json:"id"`
	Host     string    `json:"host,omitempty"`
	Labels   []string  `json:"labels,omitempty"`
	Version  string    `json:"version,omitempty"`
	Since    time.Time `json:"since"`
	LastSeen time.Time `json:"lastSeen"`
}

// Step is one step of a pipeline.
//
// Needs names the steps that must succeed before this one runs: nil means
// the step before it, an empty list none (the step starts with the run).
//
// Type "approval" makes a step that runs no driver and waits for
// ApproveStep or RejectStep.
type Step struct {
	ID     string   `json:"id"`
	Name   string   `json:"name,omitempty"`
	Type   string   `json:"type,omitempty"`
	Driver string   `json:"driver,omitempty"`
	Needs  []string `json:"needs,omitempty"`
	// Timeout bounds each attempt (a Go duration string such as "90s").
	Timeout string       `json:"timeout,omitempty"`
	Retry   *RetryPolicy `json:"retry,omitempty"`
	// When is a CEL condition; the step is skipped when it is false.
	When string `json:"when,omitempty"`
	// Secrets names the secrets the step's driver gets (Request.Secrets).
	Secrets []string `json:"secrets,omitempty"`
	// RunsOn names the labels a process of the driver must have to take
	// the step (WithLabels); absent: any process of it.
	RunsOn []string `json:"runsOn,omitempty"`
	// With is a JSON object of parameters for the driver (Request.With);
	// its strings may hold ${{ EXPR }} CEL expressions.
	With json.RawMessage `json:"with,omitempty"`
	// Matrix runs the step once per combination of its values: each key
	// but "include" and "exclude" holds a list of values. FailFast (default
	// true) and MaxParallel (0: no bound) say how its instances run.
	Matrix      map[string]json.RawMessage `json:"matrix,omitempty"`
	FailFast    *bool                      `json:"failFast,omitempty"`
	MaxParallel int                        `json:"maxParallel,omitempty"`
	// Concurrency makes the step take a place in a concurrency group before
	// it is dispatched; its Group sees what the step's condition sees.
	Concurrency *Concurrency `json:"concurrency,omitempty"`
}

// RetryPolicy says how often a step is tried: Attempts counts the first try;
// Backoff (default 10s) doubles before each further try up to MaxBackoff
// (default 5m); On lists "failure" and/or "timeout" (empty: both).
type RetryPolicy struct {
	Attempts   int      `json:"attempts"`
	Backoff    string   `json:"backoff,omitempty"`
	MaxBackoff string   `json:"maxBackoff,omitempty"`
	On         []string `json:"on,omitempty"`
}

// MarshalJSON sends an empty Needs as [], which the server tells apart from
// an absent one.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	wire := struct {
		plain
		Needs *[]string `json:"needs,omitempty"`
	}{plain: plain(s)}
	if s.Needs != nil {
		wire.Needs = &s.Needs
	}
	return json.Marshal(wire)
}

// DriverResult is a driver's report for one step, as the server stores it.
type DriverResult struct {
	Success bool            `json:"success"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
	Driver  string          `json:"driver"`
}

// Run is one execution of a pipeline.
type Run struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"`
	Trigger    string     `json:"trigger"`
	Pipeline   Pipeline   `json:"pipeline"`
	Resource   Resource   `json:"resource"`
	Steps      []RunStep  `json:"steps"`
	Current    int        `json:"current"`
	Message    string     `json:"message,omitempty"`
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	// Deadline is when the run fails unless it has ended.
	Deadline *time.Time `json:"deadline,omitempty"`
	// Concurrency is the run's concurrency group, when its pipeline has
	// one; Position is a queued run's place in the queue (1: next).
	Concurrency *RunConcurrency `json:"concurrency,omitempty"`
	// StartedBy is who made the change that started the run (a token, a
	// trigger, the server), when known.
	StartedBy *Actor `json:"startedBy,omitempty"`
	// Origin is the webhook delivery behind that change, when a trigger
	// made it.
	Origin *RunOrigin `json:"origin,omitempty"`
	// StatusReports are the run's commit statuses that could not be
	// reported to the git host, oldest first (GET /runs/{id} only).
	StatusReports []StatusReport `json:"statusReports,omitempty"`
}

// StatusReport is a commit status of a run that was given up: the status
// (pending, success, failure or error), the git host's answer or why it
// was not sent, the attempts made, the trigger reporting the run, and when.
type StatusReport struct {
	Status   string    `json:"status"`
	Message  string    `json:"message"`
	Attempts int       `json:"attempts"`
	Trigger  string    `json:"trigger,omitempty"`
	At       time.Time `json:"at"`
}

// Notice is the sentence that tells of the status given up: Commit status
// 'success' could not be reported to the git host: MESSAGE (5 attempts).
func (s StatusReport) Notice() string {
	attempts := "1 attempt"
	if s.Attempts != 1 {
		attempts = fmt.Sprintf("%d attempts", s.Attempts)
	}
	return fmt.Sprintf("Commit status '%s' could not be reported to the git host: %s (%s)", s.Status, s.Message, attempts)
}

// RunOrigin is the webhook delivery that started a run through a trigger:
// its event, the commit and ref it names, and its id.
type RunOrigin struct {
	Event    string `json:"event"`
	Commit   string `json:"commit,omitempty"`
	Ref      string `json:"ref,omitempty"`
	Delivery string `json:"delivery,omitempty"`
	// Report is where the run's statuses are reported, its repository and
	// commit as the trigger's expressions gave them.
	Report *TriggerReport `json:"report,omitempty"`
}

// Describe is "push 1a2b3c4 on main": the event, the commit's first seven
// characters and the branch or tag.
func (o *RunOrigin) Describe() string {
	if o == nil {
		return ""
	}
	out := o.Event
	if o.Commit != "" {
		out += " " + o.Commit[:min(7, len(o.Commit))]
	}
	if ref := shortRef(o.Ref); ref != "" {
		out += " on " + ref
	}
	return out
}

// shortRef is a ref without refs/heads/ or refs/tags/.
func shortRef(ref string) string {
	for _, p := range []string{"refs/heads/", "refs/tags/"} {
		if len(ref) > len(p) && ref[:len(p)] == p {
			return ref[len(p):]
		}
	}
	return ref
}

// Concurrency is a pipeline's concurrency: Group is a CEL expression over
// the resource, pipeline and run that names the group; Limit (1 when nil)
// the runs of the group that go on at once; OnFull what a run does when
// the group is full: "queue" (the default), "cancel-running" or "skip".
type Concurrency struct {
	Group  string `json:"group"`
	Limit  *int   `json:"limit,omitempty"`
	OnFull string `json:"onFull,omitempty"`
}

// RunConcurrency is a run's concurrency group.
type RunConcurrency struct {
	Group    string `json:"group"`
	Limit    int    `json:"limit"`
	OnFull   string `json:"onFull"`
	Position int    `json:"queuedPosition,omitempty"`
}

// Ended reports whether the run is succeeded, failed or cancelled: not
// while it runs or waits in its concurrency group's queue (queued).
func (r Run) Ended() bool { return r.Status != "" && r.Status != "running" && r.Status != "queued" }

// Queued says where a queued run waits (position 2 in concurrency group
// "deploy-prod"), empty for any other run.
func (r Run) Queued() string {
	if r.Status != "queued" || r.Concurrency == nil {
		return ""
	}
	if r.Concurrency.Position == 0 {
		return fmt.Sprintf("in concurrency group %q", r.Concurrency.Group)
	}
	return fmt.Sprintf("position %d in concurrency group %q", r.Concurrency.Position, r.Concurrency.Group)
}

// RunStep is one step of a run.
type RunStep struct {
	ID           string        `json:"id"`
	Driver       string        `json:"driver"`
	Status       string        `json:"status"`
	Attempt      int           `json:"attempt"`
	DispatchedAt *time.Time    `json:"dispatchedAt,omitempty"`
	FinishedAt   *time.Time    `json:"finishedAt,omitempty"`
	Result       *DriverResult `json:"result,omitempty"`
	// Reason says why a skipped step did not run, or why it waits to be
	// tried again.
	Reason string `json:"reason,omitempty"`
	// Deadline is when the attempt under way times out; RetryAt when a
	// failed step runs again; TimedOut that its last attempt timed out.
	Deadline *time.Time `json:"deadline,omitempty"`
	RetryAt  *time.Time `json:"retryAt,omitempty"`
	TimedOut bool       `json:"timedOut,omitempty"`
	// Waiting says why a dispatched step may wait long: no instance of its
	// driver is connected.
	Waiting string `json:"waiting,omitempty"`
	// With is the step's parameters as evaluated for its last dispatch.
	With json.RawMessage `json:"with,omitempty"`
	// Matrix names the matrix step this step is an instance of, and its
	// values; nil for a step without a matrix.
	Matrix *MatrixInstance `json:"matrix,omitempty"`
	// Concurrency is the step's concurrency group, once it asked for a
	// place; its Position is filled in while the step waits (queued).
	// HoldsPlace says that the group gave the step a place.
	Concurrency *RunConcurrency `json:"concurrency,omitempty"`
	HoldsPlace  bool            `json:"holdsPlace,omitempty"`
}

// Queued says where a queued step waits (position 2 in concurrency group
// "deploy-prod"), empty for any other step.
func (s RunStep) Queued() string {
	if s.Status != "queued" || s.Concurrency == nil {
		return ""
	}
	if s.Concurrency.Position == 0 {
		return fmt.Sprintf("in concurrency group %q", s.Concurrency.Group)
	}
	return fmt.Sprintf("position %d in concurrency group %q", s.Concurrency.Position, s.Concurrency.Group)
}

// MatrixInstance is the matrix step a step of a run is an instance of, and
// the instance's values by key.
type MatrixInstance struct {
	Group  string                     `json:"group"`
	Values map[string]json.RawMessage `json:"values"`
}

// WriteResult answers a resource create or replace. A replace's answer is
// the resource itself on the wire; the client fills the rest in from its
// headers.
type WriteResult struct {
	Name     string   `json:"name"`
	RunID    string   `json:"runid"`
	Version  int      `json:"version"`
	Message  string   `json:"message"`
	Resource Resource `json:"resource"`
}
