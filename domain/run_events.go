package domain

import (
	"encoding/json"
	"time"
)

// Run events.
const (
	TypeRunStarted           = "RunStarted.v1"
	TypeStepDispatched       = "StepDispatched.v1"
	TypeDriverResultRecorded = "DriverResultRecorded.v1"
	TypeRunSucceeded         = "RunSucceeded.v1"
	TypeRunFailed            = "RunFailed.v1"
	TypeRunCancelled         = "RunCancelled.v1"
	TypeRunRetried           = "RunRetried.v1"
	TypeStepTimedOut         = "StepTimedOut.v1"
	TypeStepRetryScheduled   = "StepRetryScheduled.v1"
)

// DriverResult is what a driver reports for one step of one run.
type DriverResult struct {
	Success bool            `json:"success"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
	Driver  string          `json:"driver"`
}

// RunStarted: a resource change started a run of its pipeline. It holds the
// pipeline as it was and the resource at the version that caused the run;
// its causation id is the id of that resource event.
type RunStarted struct {
	Meta
	RunID    string   `json:"runId"`
	Trigger  string   `json:"trigger"` // "create" or "update"
	Pipeline Pipeline `json:"pipeline"`
	Resource Resource `json:"resource"`
	// ResourceEventVersion is the aggregate version of the resource event
	// that caused the run.
	ResourceEventVersion uint64 `json:"resourceEventVersion"`
	// StartedBy is the actor of that resource event, when known.
	StartedBy *Actor `json:"startedBy,omitempty"`
	// Origin is the delivery behind that resource event, when a trigger
	// wrote it: the event, the commit and the ref it names.
	Origin *RunOrigin `json:"origin,omitempty"`
	// Order is the log position of that resource event, recorded when a
	// step of the pipeline names a concurrency group: the step waits in its
	// group in this order. Absent otherwise, and in runs of older servers.
	Order uint64 `json:"order,omitempty"`
}

// RunOrigin is the webhook delivery that started a run through a trigger:
// its event, the commit and ref it names, its id, and where the run's
// statuses are reported (nil: nowhere).
type RunOrigin struct {
	Event    string        `json:"event"`
	Commit   string        `json:"commit,omitempty"`
	Ref      string        `json:"ref,omitempty"`
	Delivery string        `json:"delivery,omitempty"`
	Report   *StatusTarget `json:"report,omitempty"`
}

// StepDispatched: the engine sent a step's work to its driver. Event is the
// wire event the driver receives ("create", "update" or "process").
type StepDispatched struct {
	Meta
	Step    string `json:"step"`
	Driver  string `json:"driver"`
	Attempt int    `json:"attempt"`
	Event   string `json:"event"`
	// With is the step's parameters as evaluated for this attempt, handed
	// to the driver with the work; absent for a step without `with`.
	With json.RawMessage `json:"with,omitempty"`
}

// DriverResultRecorded: a driver's result for a step arrived. Ignored results
// (late, duplicate, or for another step) are recorded with the reason and
// change nothing.
type DriverResultRecorded struct {
	Meta
	// Resource is the key (type/name) of the run's resource, whose metadata
	// keeps the result under driverresults.{driver}.
	Resource string       `json:"resource"`
	Step     string       `json:"step"`
	Attempt  int          `json:"attempt"`
	Result   DriverResult `json:"result"`
	Ignored  string       `json:"ignored,omitempty"`
}

// RunSucceeded: every step succeeded.
type RunSucceeded struct {
	Meta
}

// RunFailed: a step failed; nothing further runs.
type RunFailed struct {
	Meta
	Step    string `json:"step"`
	Message string `json:"message"`
}

// RunCancelled: a user cancelled the run; nothing further runs.
type RunCancelled struct {
	Meta
	Reason string `json:"reason,omitempty"`
}

// RunRetried: a failed run resumes from its failed step as a new attempt,
// keeping the results of the steps before it.
type RunRetried struct {
	Meta
	Step    string `json:"step"`
	Attempt int    `json:"attempt"`
}

// StepTimedOut: an attempt of a step ended without a result, because its
// timeout passed or its driver stopped sending heartbeats. It counts as a
// failed attempt.
type StepTimedOut struct {
	Meta
	Step    string `json:"step"`
	Attempt int    `json:"attempt"`
	Reason  string `json:"reason"`
}

// StepRetryScheduled: a step's attempt failed or timed out and its retry
// policy allows another; the step runs again at At.
type StepRetryScheduled struct {
	Meta
	Step string `json:"step"`
	// Attempt is the attempt that failed; the next is Attempt+1.
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
}

func init() {
	register(TypeStepTimedOut, func() Event { return &StepTimedOut{} })
	register(TypeStepRetryScheduled, func() Event { return &StepRetryScheduled{} })
	register(TypeRunStarted, func() Event { return &RunStarted{} })
	register(TypeStepDispatched, func() Event { return &StepDispatched{} })
	register(TypeDriverResultRecorded, func() Event { return &DriverResultRecorded{} })
	register(TypeRunSucceeded, func() Event { return &RunSucceeded{} })
	register(TypeRunFailed, func() Event { return &RunFailed{} })
	register(TypeRunCancelled, func() Event { return &RunCancelled{} })
	register(TypeRunRetried, func() Event { return &RunRetried{} })
}
