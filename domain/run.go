package domain

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Run statuses. A run ends in exactly one of succeeded, failed, cancelled.
const (
	RunStatusRunning   = "running"
	RunStatusSucceeded = "succeeded"
	RunStatusFailed    = "failed"
	RunStatusCancelled = "cancelled"
)

// Step statuses.
const (
	StepStatusPending    = "pending"
	StepStatusDispatched = "dispatched"
	StepStatusSucceeded  = "succeeded"
	StepStatusFailed     = "failed"
	StepStatusSkipped    = "skipped"
)

// Run is the state of one execution of a pipeline over one resource version.
type Run struct {
	ID       string   `json:"id"`
	Status   string   `json:"status"`
	Trigger  string   `json:"trigger"`
	Pipeline Pipeline `json:"pipeline"`
	Resource Resource `json:"resource"`
	// ResourceEventVersion is the aggregate version of the resource event
	// that started the run.
	ResourceEventVersion uint64      `json:"resourceEventVersion"`
	Steps                []StepState `json:"steps"`
	Current              int         `json:"current"` // index of the step the run is at
	Message              string      `json:"message,omitempty"`
	StartedAt            time.Time   `json:"startedAt"`
	FinishedAt           *time.Time  `json:"finishedAt,omitempty"`
}

// StepState is one step of a run.
type StepState struct {
	ID           string        `json:"id"`
	Driver       string        `json:"driver"`
	Status       string        `json:"status"`
	Attempt      int           `json:"attempt"`
	DispatchedAt *time.Time    `json:"dispatchedAt,omitempty"`
	FinishedAt   *time.Time    `json:"finishedAt,omitempty"`
	Result       *DriverResult `json:"result,omitempty"`
}

// Ended reports whether the run is in a terminal state.
func (r Run) Ended() bool { return r.Status != RunStatusRunning && r.Status != "" }

// WorkEvent is the wire event of the current step: the trigger for the
// first step, "process" for every later one.
func (r Run) WorkEvent() string {
	if r.Current == 0 {
		return r.Trigger
	}
	return "process"
}

// Payload is the resource the driver of step receives: the resource as it
// was when the run started, with the results of the steps before it in
// metadata["driverresults.{driver}"] and the pipeline's metadata for keys the
// resource does not set.
func (r Run) Payload(step string) Resource {
	res := r.Resource
	upTo := r.stepIndex(step)
	meta := make(map[string]string, len(res.Metadata)+len(r.Pipeline.Metadata)+len(r.Steps))
	for k, v := range r.Pipeline.Metadata {
		meta[k] = v
	}
	for k, v := range res.Metadata {
		meta[k] = v
	}
	for i, s := range r.Steps {
		if i < upTo && s.Status == StepStatusSucceeded && s.Result != nil {
			meta[MetaResultPrefix+s.Driver] = ResultJSON(*s.Result)
		}
	}
	res.Metadata = meta
	return res
}

// ResultJSON is a driver result as the JSON string kept in resource metadata.
func ResultJSON(r DriverResult) string {
	data, _ := json.Marshal(r)
	return string(data)
}

// RunAggregate is the Run aggregate. Each decision records at most one
// event, so a crash between two decisions resumes from the log.
type RunAggregate struct {
	state   Run
	exists  bool
	version uint64
	changes []Event
}

// Version is the aggregate version: the number of events applied.
func (a *RunAggregate) Version() uint64 { return a.version }

// Exists reports whether the run was started.
func (a *RunAggregate) Exists() bool { return a.exists }

// State is the current run.
func (a *RunAggregate) State() Run { return a.state }

// Changes are the events recorded since the aggregate was loaded.
func (a *RunAggregate) Changes() []Event { return a.changes }

func (a *RunAggregate) record(e Event) {
	a.Apply(e)
	a.changes = append(a.changes, e)
}

func (a *RunAggregate) meta(typ string, c Cause) Meta {
	if c.CorrelationID == "" {
		c.CorrelationID = a.state.ID
	}
	return c.meta(typ, AggregateRun, a.state.ID, a.version+1)
}

// Apply folds one event into the aggregate.
func (a *RunAggregate) Apply(e Event) {
	at := e.EventMeta().Time
	r := &a.state
	switch e := e.(type) {
	case *RunStarted:
		a.exists = true
		*r = Run{ID: e.RunID, Status: RunStatusRunning, Trigger: e.Trigger, Pipeline: e.Pipeline, Resource: e.Resource,
			ResourceEventVersion: e.ResourceEventVersion, StartedAt: at}
		r.Steps = make([]StepState, len(e.Pipeline.Steps))
		for i, s := range e.Pipeline.Steps {
			r.Steps[i] = StepState{ID: s.ID, Driver: s.Driver, Status: StepStatusPending}
		}
	case *StepDispatched:
		if i := r.stepIndex(e.Step); i >= 0 {
			s := &r.Steps[i]
			s.Status, s.Attempt, s.DispatchedAt, s.FinishedAt, s.Result = StepStatusDispatched, e.Attempt, &at, nil, nil
			r.Current = i
		}
	case *DriverResultRecorded:
		if i := r.stepIndex(e.Step); i >= 0 && e.Ignored == "" {
			s := &r.Steps[i]
			result := e.Result
			s.Result, s.FinishedAt = &result, &at
			s.Status = StepStatusFailed
			if result.Success {
				s.Status = StepStatusSucceeded
			}
		}
	case *RunSucceeded:
		r.Status, r.FinishedAt = RunStatusSucceeded, &at
	case *RunFailed:
		r.Status, r.FinishedAt, r.Message = RunStatusFailed, &at, e.Message
	case *RunCancelled:
		r.Status, r.FinishedAt, r.Message = RunStatusCancelled, &at, e.Reason
		r.skipRest()
	case *RunRetried:
		r.Status, r.FinishedAt, r.Message = RunStatusRunning, nil, ""
		if i := r.stepIndex(e.Step); i >= 0 {
			r.Current = i
			r.Steps[i].Status = StepStatusPending
			for j := i + 1; j < len(r.Steps); j++ {
				r.Steps[j] = StepState{ID: r.Steps[j].ID, Driver: r.Steps[j].Driver, Status: StepStatusPending}
			}
		}
	}
	a.version = e.EventMeta().Version
}

func (r *Run) stepIndex(id string) int {
	for i, s := range r.Steps {
		if s.ID == id {
			return i
		}
	}
	return -1
}

func (r *Run) skipRest() {
	for i := range r.Steps {
		if r.Steps[i].Status == StepStatusPending || r.Steps[i].Status == StepStatusDispatched {
			r.Steps[i].Status = StepStatusSkipped
		}
	}
}

// Start begins a run of pipeline p over resource res, caused by the resource
// event whose id is c.CausationID. trigger is "create" or "update".
func (a *RunAggregate) Start(runID, trigger string, p Pipeline, res Resource, resourceEventVersion uint64, c Cause) error {
	if a.exists {
		return fmt.Errorf("run %s already started: %w", runID, ErrConflict)
	}
	if len(p.Steps) == 0 {
		return Invalid("pipeline", "has no steps")
	}
	a.state.ID = runID
	a.record(&RunStarted{Meta: a.meta(TypeRunStarted, c), RunID: runID, Trigger: trigger, Pipeline: p, Resource: res,
		ResourceEventVersion: resourceEventVersion})
	return nil
}

// Advance makes the run progress by at most one event: dispatch the current
// step if it waits, dispatch the next one after a success, succeed after the
// last one, or fail after a failure. It records nothing when the run waits
// for a driver or has ended, so calling it again is harmless.
func (a *RunAggregate) Advance(c Cause) {
	r := a.state
	if !a.exists || r.Ended() {
		return
	}
	cur := r.Steps[r.Current]
	switch cur.Status {
	case StepStatusPending:
		a.record(&StepDispatched{Meta: a.meta(TypeStepDispatched, c), Step: cur.ID, Driver: cur.Driver,
			Attempt: cur.Attempt + 1, Event: r.WorkEvent()})
	case StepStatusSucceeded:
		if r.Current+1 == len(r.Steps) {
			a.record(&RunSucceeded{Meta: a.meta(TypeRunSucceeded, c)})
			return
		}
		next := r.Steps[r.Current+1]
		a.record(&StepDispatched{Meta: a.meta(TypeStepDispatched, c), Step: next.ID, Driver: next.Driver,
			Attempt: next.Attempt + 1, Event: "process"})
	case StepStatusFailed:
		msg := fmt.Sprintf("step %s (driver %s) failed", cur.ID, cur.Driver)
		if cur.Result != nil && cur.Result.Message != "" {
			msg += ": " + cur.Result.Message
		}
		a.record(&RunFailed{Meta: a.meta(TypeRunFailed, c), Step: cur.ID, Message: msg})
	}
}

// RecordResult records a driver's result. step may be empty (drivers of the
// original runtime do not send it): then the result belongs to the current
// step if that step runs the result's driver. A result that does not belong
// to a waiting step is recorded as ignored, with the reason, and changes
// nothing.
func (a *RunAggregate) RecordResult(step string, result DriverResult, c Cause) error {
	if !a.exists {
		return fmt.Errorf("run %s: %w", a.state.ID, ErrNotFound)
	}
	r := a.state
	var cur StepState
	if len(r.Steps) > 0 {
		cur = r.Steps[r.Current]
	}
	if step == "" && cur.Driver == result.Driver {
		step = cur.ID
	}
	attempt := 0
	if i := r.stepIndex(step); i >= 0 {
		attempt = r.Steps[i].Attempt
	}
	ignored := ""
	switch {
	case r.Ended():
		ignored = "the run has ended (" + r.Status + ")"
	case step == "":
		ignored = fmt.Sprintf("driver %s does not run the current step %s", result.Driver, cur.ID)
	case step != cur.ID:
		ignored = fmt.Sprintf("step %s is not the current step %s", step, cur.ID)
	case cur.Status != StepStatusDispatched:
		ignored = fmt.Sprintf("step %s is %s, not waiting for a result", step, cur.Status)
	case result.Driver != "" && result.Driver != cur.Driver:
		ignored = fmt.Sprintf("step %s runs driver %s, not %s", step, cur.Driver, result.Driver)
	}
	if result.Driver == "" {
		result.Driver = cur.Driver
	}
	a.record(&DriverResultRecorded{Meta: a.meta(TypeDriverResultRecorded, c), Resource: r.Resource.Key(), Step: step, Attempt: attempt, Result: result, Ignored: ignored})
	return nil
}

// CheckSender refuses a result that sender, the driver identity the
// transport vouches for, may not give: the result must name no other driver,
// and the step it claims (the current step when step is empty) must run
// sender's driver. A result that passes may still be recorded as ignored by
// RecordResult (a late one, say); one that fails is ErrForeignResult.
func (a *RunAggregate) CheckSender(step string, result DriverResult, sender string) error {
	if !a.exists {
		return fmt.Errorf("run %s: %w", a.state.ID, ErrNotFound)
	}
	if result.Driver != "" && result.Driver != sender {
		return fmt.Errorf("driver %s sent a result in the name of driver %s: %w", sender, result.Driver, ErrForeignResult)
	}
	r := a.state
	i := r.stepIndex(step)
	if step == "" && len(r.Steps) > 0 {
		i = r.Current
	}
	if i < 0 {
		return fmt.Errorf("driver %s sent a result for step %q, which run %s does not have: %w", sender, step, r.ID, ErrForeignResult)
	}
	if d := r.Steps[i].Driver; d != sender {
		return fmt.Errorf("driver %s sent a result for step %s of run %s, which runs driver %s: %w", sender, r.Steps[i].ID, r.ID, d, ErrForeignResult)
	}
	return nil
}

// Cancel ends a running run as cancelled; no further step is dispatched.
func (a *RunAggregate) Cancel(reason string, c Cause) error {
	if !a.exists {
		return fmt.Errorf("run %s: %w", a.state.ID, ErrNotFound)
	}
	if a.state.Ended() {
		return fmt.Errorf("run %s has already ended (%s): %w", a.state.ID, a.state.Status, ErrConflict)
	}
	a.record(&RunCancelled{Meta: a.meta(TypeRunCancelled, c), Reason: reason})
	return nil
}

// Retry resumes a failed run from its failed step as a new attempt, keeping
// the results of the steps before it.
func (a *RunAggregate) Retry(c Cause) error {
	if !a.exists {
		return fmt.Errorf("run %s: %w", a.state.ID, ErrNotFound)
	}
	if a.state.Status != RunStatusFailed {
		return fmt.Errorf("run %s is %s; only a failed run can be retried: %w", a.state.ID, a.state.Status, ErrConflict)
	}
	cur := a.state.Steps[a.state.Current]
	a.record(&RunRetried{Meta: a.meta(TypeRunRetried, c), Step: cur.ID, Attempt: cur.Attempt + 1})
	return nil
}

// StartWithoutPipeline records a run that could not start, so that the Run ID
// the client holds still ends: RunStarted then RunFailed with reason.
func (a *RunAggregate) StartWithoutPipeline(runID, trigger string, p Pipeline, res Resource, resourceEventVersion uint64, reason string, c Cause) error {
	if a.exists {
		return fmt.Errorf("run %s already started: %w", runID, ErrConflict)
	}
	a.state.ID = runID
	a.record(&RunStarted{Meta: a.meta(TypeRunStarted, c), RunID: runID, Trigger: trigger, Pipeline: p, Resource: res,
		ResourceEventVersion: resourceEventVersion})
	a.record(&RunFailed{Meta: a.meta(TypeRunFailed, c), Message: reason})
	return nil
}

// ValidRunID reports whether id can be a Run ID: a UUID in its usual text
// form. Run IDs become subject tokens, so nothing else is accepted.
func ValidRunID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}

// RestoreRun returns the aggregate of a stored run at version, so that a
// read model can fold one more event into it.
func RestoreRun(state Run, version uint64) *RunAggregate {
	return &RunAggregate{state: state, exists: true, version: version}
}

// resultIDs is the namespace of the ids of DriverResultRecorded events.
var resultIDs = uuid.MustParse("5b0c2f3e-7d52-4c1e-9a8f-2f1d6c3b9e47")

// ResultEventID is the event id of the DriverResultRecorded that a driver's
// result message becomes: derived from the run and the message, so that the
// same message recorded again is recognised as a repeat by the log.
func ResultEventID(runID, messageID string) string {
	return uuid.NewSHA1(resultIDs, []byte(runID+"/"+messageID)).String()
}
