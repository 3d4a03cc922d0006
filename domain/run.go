package domain

import (
	"encoding/json"
	"fmt"
	"slices"
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
	Current              int         `json:"current"` // index of the step dispatched last
	Message              string      `json:"message,omitempty"`
	StartedAt            time.Time   `json:"startedAt"`
	// StartedBy is who made the resource change that started the run: a
	// token, or a trigger. Nil for a run started before runs recorded it.
	StartedBy *Actor `json:"startedBy,omitempty"`
	// Origin is the webhook delivery behind that change, when a trigger
	// made it: its event, commit and ref.
	Origin     *RunOrigin `json:"origin,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	// Deadline is when the run fails unless it has ended, from the
	// pipeline's timeout.
	Deadline *time.Time `json:"deadline,omitempty"`
	// Concurrency is the run's concurrency group, when its pipeline bounds
	// its concurrency.
	Concurrency *RunConcurrency `json:"concurrency,omitempty"`
	// StatusReports are the run's commit statuses that were not reported
	// to the git host (its report aggregate's StatusReportFailed), oldest
	// first. Filled in when the run is read, never stored with it.
	StatusReports []StatusReport `json:"statusReports,omitempty"`
	// Order is the log position of the resource change that started the
	// run, when its pipeline has a step that names a concurrency group
	// (0: unknown): such a step waits in its group in this order.
	Order uint64 `json:"-"`
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
	// Reason says why a skipped step did not run, or why a step waits to be
	// tried again.
	Reason string `json:"reason,omitempty"`
	// Deadline is when the attempt under way times out, from the step's
	// timeout; RetryAt is when a step that failed runs again.
	Deadline *time.Time `json:"deadline,omitempty"`
	RetryAt  *time.Time `json:"retryAt,omitempty"`
	// TimedOut says that the failed attempt ended without a result;
	// ConditionFailed that the step failed because its condition could not
	// be evaluated (it is not retried: it would fail the same way).
	TimedOut        bool `json:"timedOut,omitempty"`
	ConditionFailed bool `json:"conditionFailed,omitempty"`
	// ParametersFailed says that the step failed because an expression of
	// its `with` could not be evaluated (not retried either).
	ParametersFailed bool `json:"parametersFailed,omitempty"`
	// With is the step's parameters as evaluated for its last dispatch.
	With json.RawMessage `json:"with,omitempty"`
	// Matrix names the matrix step this step is an instance of, and its
	// values; absent for a step without a matrix.
	Matrix *MatrixInstance `json:"matrix,omitempty"`
	// Waiting is filled in when the run is read, never stored: why a
	// dispatched step may wait long ("no instance of driver X is
	// connected").
	Waiting string `json:"waiting,omitempty"`
	// Concurrency is the step's concurrency group, once the step asked it
	// for a place (its status was queued); queuedPosition is filled in
	// while it waits, when the run is read. HoldsPlace says that the group
	// gave it one: it keeps it through its retries.
	Concurrency *RunConcurrency `json:"concurrency,omitempty"`
	HoldsPlace  bool            `json:"holdsPlace,omitempty"`
}

// Clone is a copy of r that Apply can change without changing r: Apply
// changes the steps in place (it only ever replaces what their pointers
// point to), nothing else a run shares.
func (r Run) Clone() Run {
	r.Steps = slices.Clone(r.Steps)
	return r
}

// Ended reports whether the run is in a terminal state.
func (r Run) Ended() bool {
	return r.Status != RunStatusRunning && r.Status != RunStatusQueued && r.Status != ""
}

// WorkEvent is the wire event of step: the run's trigger for a step that
// needs no other (the first step of a list), "process" for every other.
func (r Run) WorkEvent(step string) string {
	if i := r.stepIndex(step); i >= 0 && len(r.needsOf(i)) > 0 {
		return "process"
	}
	return r.Trigger
}

// Payload is the resource the driver of step receives: the resource as it
// was when the run started, with the results of the steps it needs, directly
// or through others, in metadata["driverresults.{driver}"] and the
// pipeline's metadata for keys the resource does not set.
func (r Run) Payload(step string) Resource {
	res := r.Resource
	needed := map[int]bool{}
	if i := r.stepIndex(step); i >= 0 && len(r.Pipeline.Steps) == len(r.Steps) {
		needed = r.Pipeline.ancestors(i)
	}
	meta := make(map[string]string, len(res.Metadata)+len(r.Pipeline.Metadata)+len(r.Steps))
	for k, v := range r.Pipeline.Metadata {
		meta[k] = v
	}
	for k, v := range res.Metadata {
		meta[k] = v
	}
	for i, s := range r.Steps {
		if needed[i] && s.Status == StepStatusSucceeded && s.Result != nil && s.Driver != "" {
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
	state      Run
	exists     bool
	version    uint64
	changes    []Event
	conditions Conditions
	// order is the log position of the resource change that starts the
	// run (QueueInOrder).
	order uint64
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
		// The run holds its pipeline with each matrix expanded into its
		// instances: every step of the run is a step of its pipeline.
		p := e.Pipeline.Expanded()
		*r = Run{ID: e.RunID, Status: RunStatusRunning, Trigger: e.Trigger, Pipeline: p, Resource: e.Resource,
			ResourceEventVersion: e.ResourceEventVersion, StartedAt: at, StartedBy: e.StartedBy, Origin: e.Origin, Order: e.Order}
		r.Steps = make([]StepState, len(p.Steps))
		for i, s := range p.Steps {
			r.Steps[i] = StepState{ID: s.ID, Driver: s.Driver, Status: StepStatusPending, Matrix: s.Instance}
		}
		if d := duration(e.Pipeline.Timeout); d > 0 {
			deadline := at.Add(d)
			r.Deadline = &deadline
		}
	case *StepDispatched:
		if i := r.stepIndex(e.Step); i >= 0 {
			s := &r.Steps[i]
			s.Status, s.Attempt, s.DispatchedAt, s.FinishedAt, s.Result = StepStatusDispatched, e.Attempt, &at, nil, nil
			s.Reason, s.RetryAt, s.Deadline, s.TimedOut, s.ConditionFailed, s.ParametersFailed = "", nil, nil, false, false, false
			s.With = e.With
			if d := r.stepTimeout(i); d > 0 {
				deadline := at.Add(d)
				s.Deadline = &deadline
			}
			r.Current = i
		}
	case *DriverResultRecorded:
		if i := r.stepIndex(e.Step); i >= 0 && e.Ignored == "" {
			s := &r.Steps[i]
			result := e.Result
			s.Result, s.FinishedAt = &result, &at
			s.Status, s.Deadline = StepStatusSucceeded, nil
			if !result.Success {
				s.Status = StepStatusFailed
				if !r.retries(i, RetryOnFailure) {
					r.skipDependants(i)
				}
			}
		}
	case *StepTimedOut:
		if i := r.stepIndex(e.Step); i >= 0 {
			s := &r.Steps[i]
			s.Status, s.FinishedAt, s.Deadline, s.TimedOut = StepStatusFailed, &at, nil, true
			s.Result = &DriverResult{Success: false, Message: e.Reason, Driver: s.Driver}
			if !r.retries(i, RetryOnTimeout) {
				r.skipDependants(i)
			}
		}
	case *StepRetryScheduled:
		if i := r.stepIndex(e.Step); i >= 0 {
			s := &r.Steps[i]
			retryAt := e.At
			s.Status, s.RetryAt = StepStatusPending, &retryAt
			s.Reason = fmt.Sprintf("attempt %d failed; attempt %d at %s", e.Attempt, e.Attempt+1, retryAt.UTC().Format(time.RFC3339))
		}
	case *ApprovalRequested:
		if i := r.stepIndex(e.Step); i >= 0 {
			s := &r.Steps[i]
			s.Status, s.Attempt, s.DispatchedAt, s.Reason = StepStatusWaiting, 1, &at, "waits for approval"
			if d := r.stepTimeout(i); d > 0 {
				deadline := at.Add(d)
				s.Deadline = &deadline
			}
		}
	case *StepApproved:
		r.decided(e.Step, decision("approved", e.By, e.Comment), at)
	case *StepRejected:
		r.decided(e.Step, decision("rejected", e.By, e.Comment), at)
	case *StepSkipped:
		if i := r.stepIndex(e.Step); i >= 0 {
			r.Steps[i].Status, r.Steps[i].Reason = StepStatusSkipped, e.Reason
			r.skipDependantsBecause(i, "needs step "+e.Step+", which was skipped")
		}
	case *ConditionFailed:
		if s := r.failUndispatched(e.Step, e.Reason, at); s != nil {
			s.ConditionFailed = true
		}
	case *ParametersFailed:
		if s := r.failUndispatched(e.Step, e.Reason, at); s != nil {
			s.ParametersFailed = true
		}
	case *RunSucceeded:
		r.Status, r.FinishedAt = RunStatusSucceeded, &at
	case *RunFailed:
		r.Status, r.FinishedAt, r.Message = RunStatusFailed, &at, e.Message
		r.skipWaiting("the run failed: " + e.Message)
	case *RunCancelled:
		r.Status, r.FinishedAt, r.Message = RunStatusCancelled, &at, e.Reason
		r.skipRest()
	case *RunRetried:
		r.Status, r.FinishedAt, r.Message = RunStatusRunning, nil, ""
		r.resumeFailed()
		if d := duration(r.Pipeline.Timeout); d > 0 {
			deadline := at.Add(d)
			r.Deadline = &deadline
		}
	default:
		r.applyConcurrency(e, at)
		r.applyStepConcurrency(e)
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

// needsOf is the ids of the steps that step i needs, from the pipeline the
// run started with.
func (r *Run) needsOf(i int) []string {
	if len(r.Pipeline.Steps) != len(r.Steps) {
		return nil
	}
	return r.Pipeline.NeedsOf(i)
}

func (r *Run) skipRest() { r.skipWaiting("the run was cancelled") }

// failUndispatched fails step, which was about to be dispatched, for
// reason, and skips the steps that need it; it is the step, or nil when
// the run has none of that id.
func (r *Run) failUndispatched(step, reason string, at time.Time) *StepState {
	i := r.stepIndex(step)
	if i < 0 {
		return nil
	}
	s := &r.Steps[i]
	s.Status, s.FinishedAt = StepStatusFailed, &at
	s.Result = &DriverResult{Success: false, Message: reason, Driver: s.Driver}
	r.skipDependants(i)
	return s
}

// decided records the decision on an approval step.
func (r *Run) decided(step string, result DriverResult, at time.Time) {
	i := r.stepIndex(step)
	if i < 0 {
		return
	}
	s := &r.Steps[i]
	s.Result, s.FinishedAt, s.Deadline, s.Reason = &result, &at, nil, ""
	s.Status = StepStatusSucceeded
	if !result.Success {
		s.Status = StepStatusFailed
		r.skipDependants(i)
	}
}

// skipWaiting skips every step still waiting or running, saying why.
func (r *Run) skipWaiting(reason string) {
	for i := range r.Steps {
		if s := &r.Steps[i]; s.Status == StepStatusPending || s.Status == StepStatusDispatched || s.Status == StepStatusWaiting || s.Status == StepStatusQueued {
			s.Status, s.Reason, s.Deadline, s.RetryAt = StepStatusSkipped, reason, nil, nil
		}
	}
}

// skipDependants skips the waiting steps that need step i, directly or
// through others, after step i failed.
func (r *Run) skipDependants(i int) {
	r.skipDependantsBecause(i, "needs step "+r.Steps[i].ID+", which failed")
	r.failFast(i)
}

func (r *Run) skipDependantsBecause(i int, reason string) {
	if len(r.Pipeline.Steps) != len(r.Steps) {
		return
	}
	for k := range r.Pipeline.dependants(i) {
		if s := &r.Steps[k]; s.Status == StepStatusPending {
			s.Status, s.Reason = StepStatusSkipped, reason
		}
	}
}

// resumeFailed makes every failed step, and every step skipped because of
// one, wait again. A failed step keeps its attempt count, so its next
// dispatch is its next attempt.
func (r *Run) resumeFailed() {
	first := -1
	for i := range r.Steps {
		s := &r.Steps[i]
		switch s.Status {
		case StepStatusFailed:
			// It left its concurrency group when the run failed: it asks
			// for a place again.
			s.Status, s.Concurrency, s.HoldsPlace = StepStatusPending, nil, false
			if first < 0 {
				first = i
			}
		case StepStatusSkipped:
			*s = StepState{ID: s.ID, Driver: s.Driver, Status: StepStatusPending, Matrix: s.Matrix}
		}
	}
	if first >= 0 {
		r.Current = first
	}
}

// ready is the indexes of the waiting steps whose needs have all succeeded
// and whose retry wait, if any, is over at now; of a matrix step's
// instances, no more than its maxParallel allows beside those dispatched.
func (r Run) ready(now time.Time) []int {
	status := make(map[string]string, len(r.Steps))
	for _, s := range r.Steps {
		status[s.ID] = s.Status
	}
	var out []int
	for i, s := range r.Steps {
		if s.Status != StepStatusPending || s.RetryAt != nil && now.Before(*s.RetryAt) {
			continue
		}
		met := true
		for _, need := range r.needsOf(i) {
			if status[need] != StepStatusSucceeded {
				met = false
				break
			}
		}
		if met {
			out = append(out, i)
		}
	}
	return r.withinMaxParallel(out)
}

// InFlight is the steps dispatched that wait for their result.
func (r Run) InFlight() []StepState {
	var out []StepState
	for _, s := range r.Steps {
		if s.Status == StepStatusDispatched {
			out = append(out, s)
		}
	}
	return out
}

// waitingStepOf is the index of the step of driver that waits for its
// result, the first in pipeline order when several do, or -1.
func (r Run) waitingStepOf(driver string) int {
	for i, s := range r.Steps {
		if s.Status == StepStatusDispatched && s.Driver == driver {
			return i
		}
	}
	return -1
}

// Start begins a run of pipeline p over resource res, caused by the resource
// event whose id is c.CausationID. trigger is "create" or "update".
func (a *RunAggregate) Start(runID, trigger string, p Pipeline, res Resource, resourceEventVersion uint64, c Cause) error {
	return a.StartFrom(nil, nil, runID, trigger, p, res, resourceEventVersion, c)
}

// StartFrom is Start, recording by as who made the resource change (the
// run's StartedBy) and the webhook delivery behind it (its Origin); nil for
// either when not known.
func (a *RunAggregate) StartFrom(by *Actor, origin *RunOrigin, runID, trigger string, p Pipeline, res Resource, resourceEventVersion uint64, c Cause) error {
	if a.exists {
		return fmt.Errorf("run %s already started: %w", runID, ErrConflict)
	}
	if len(p.Steps) == 0 {
		return Invalid("pipeline", "has no steps")
	}
	a.state.ID = runID
	var order uint64
	if p.hasStepConcurrency() {
		order = a.order
	}
	a.record(&RunStarted{Meta: a.meta(TypeRunStarted, c), RunID: runID, Trigger: trigger, Pipeline: p, Resource: res,
		ResourceEventVersion: resourceEventVersion, StartedBy: by, Origin: origin, Order: order})
	a.queue(c)
	return nil
}

// Advance makes the run progress at c.Time: it ends attempts whose timeout
// passed, schedules the retries their policies allow, dispatches each waiting
// step whose needs have all succeeded (and whose retry wait is over), and
// ends the run once nothing waits or runs: succeeded when every step did,
// failed when one failed for good (the steps that need it are skipped;
// independent ones still run), or when the run's own timeout passed. Its
// events are one decision, stored together. It records nothing when the run
// waits for drivers or time, or has ended, so calling it again is harmless.
func (a *RunAggregate) Advance(c Cause) { a.AdvanceWithSilent(c, nil) }

// AdvanceWithSilent is Advance, told also which steps' drivers stopped
// sending heartbeats (step ids): their attempts end as timed out.
func (a *RunAggregate) AdvanceWithSilent(c Cause, silent []string) {
	if !a.exists || a.state.Ended() || a.state.Status == RunStatusQueued {
		return
	}
	now := c.Time
	if d := a.state.Deadline; d != nil && !now.Before(*d) {
		a.record(&RunFailed{Meta: a.meta(TypeRunFailed, c),
			Message: "the run timed out after " + a.state.Pipeline.Timeout})
		return
	}
	for i, s := range a.state.Steps {
		if s.Status != StepStatusDispatched && s.Status != StepStatusWaiting {
			continue
		}
		reason := ""
		switch {
		case s.Status == StepStatusWaiting && s.Deadline != nil && !now.Before(*s.Deadline):
			reason = fmt.Sprintf("no decision within the approval's timeout of %s", a.state.Pipeline.Steps[i].Timeout)
		case s.Deadline != nil && !now.Before(*s.Deadline):
			reason = fmt.Sprintf("no result within the step's timeout of %s", a.state.Pipeline.Steps[i].Timeout)
		case slices.Contains(silent, s.ID):
			reason = "the driver stopped sending heartbeats: it may have crashed or lost its connection"
		}
		if reason != "" {
			a.record(&StepTimedOut{Meta: a.meta(TypeStepTimedOut, c), Step: s.ID, Attempt: s.Attempt, Reason: "timed out: " + reason})
		}
	}
	for i, s := range a.state.Steps {
		if s.Status == StepStatusFailed && a.state.retries(i, a.state.failureKind(i)) {
			a.record(&StepRetryScheduled{Meta: a.meta(TypeStepRetryScheduled, c), Step: s.ID, Attempt: s.Attempt,
				At: now.Add(a.state.backoff(i, s.Attempt+1)).UTC()})
		}
	}
	r := a.state
	ready := r.ready(now)
	decidedBeforeDispatch := false
	for _, i := range ready {
		s := r.Steps[i]
		if reason, failed := a.condition(i); failed {
			a.record(&ConditionFailed{Meta: a.meta(TypeConditionFailed, c), Step: s.ID, Reason: reason})
			decidedBeforeDispatch = true
			continue
		} else if reason != "" {
			a.record(&StepSkipped{Meta: a.meta(TypeStepSkipped, c), Step: s.ID, Reason: reason})
			decidedBeforeDispatch = true
			continue
		}
		if goOn, failed := a.takePlace(i, c); failed {
			decidedBeforeDispatch = true
			continue
		} else if !goOn {
			continue
		}
		if r.isApproval(i) {
			a.record(&ApprovalRequested{Meta: a.meta(TypeApprovalRequested, c), Step: s.ID})
			continue
		}
		with, err := r.parameters(i, a.conditions)
		if err != nil {
			a.record(&ParametersFailed{Meta: a.meta(TypeParametersFailed, c), Step: s.ID, Reason: err.Error()})
			decidedBeforeDispatch = true
			continue
		}
		a.record(&StepDispatched{Meta: a.meta(TypeStepDispatched, c), Step: s.ID, Driver: s.Driver,
			Attempt: s.Attempt + 1, Event: r.WorkEvent(s.ID), With: with})
	}
	if decidedBeforeDispatch {
		// A skipped or failed step may end the run or make others ready:
		// decide again on the new state, within the same decision.
		a.AdvanceWithSilent(c, nil)
		return
	}
	if len(ready) > 0 || len(r.InFlight()) > 0 || r.waitsForRetry() || r.waitsForApproval() || r.waitsForPlace() {
		return
	}
	for _, s := range r.Steps {
		if s.Status == StepStatusFailed {
			msg := fmt.Sprintf("step %s (driver %s) failed", s.ID, s.Driver)
			if s.Result != nil && s.Result.Message != "" {
				msg += ": " + s.Result.Message
			}
			a.record(&RunFailed{Meta: a.meta(TypeRunFailed, c), Step: s.ID, Message: msg})
			return
		}
	}
	a.record(&RunSucceeded{Meta: a.meta(TypeRunSucceeded, c)})
}

// failureKind is how step i's last attempt failed: RetryOnTimeout when it
// timed out, RetryOnFailure when its driver reported a failure.
func (r *Run) failureKind(i int) string {
	if r.Steps[i].TimedOut {
		return RetryOnTimeout
	}
	return RetryOnFailure
}

// waitsForApproval reports whether an approval step waits for a decision.
func (r Run) waitsForApproval() bool {
	for _, s := range r.Steps {
		if s.Status == StepStatusWaiting {
			return true
		}
	}
	return false
}

// waitsForRetry reports whether a step waits for its retry time.
func (r Run) waitsForRetry() bool {
	for _, s := range r.Steps {
		if s.Status == StepStatusPending && s.RetryAt != nil {
			return true
		}
	}
	return false
}

// RecordResult records a driver's result. step may be empty (drivers of the
// original runtime do not send it): then the result belongs to the step of
// the result's driver that waits for one. A result that does not belong to a
// waiting step is recorded as ignored, with the reason, and changes nothing.
func (a *RunAggregate) RecordResult(step string, result DriverResult, c Cause) error {
	if !a.exists {
		return fmt.Errorf("run %s: %w", a.state.ID, ErrNotFound)
	}
	r := a.state
	if step == "" {
		if i := r.waitingStepOf(result.Driver); i >= 0 {
			step = r.Steps[i].ID
		}
	}
	i := r.stepIndex(step)
	var target StepState
	if i >= 0 {
		target = r.Steps[i]
	}
	ignored := ""
	switch {
	case r.Ended():
		ignored = "the run has ended (" + r.Status + ")"
	case step == "":
		ignored = fmt.Sprintf("no step of driver %s waits for a result", result.Driver)
	case i < 0:
		ignored = fmt.Sprintf("the run has no step %s", step)
	case target.Status != StepStatusDispatched:
		ignored = fmt.Sprintf("step %s is %s, not waiting for a result", step, target.Status)
	case result.Driver != "" && result.Driver != target.Driver:
		ignored = fmt.Sprintf("step %s runs driver %s, not %s", step, target.Driver, result.Driver)
	}
	if result.Driver == "" {
		result.Driver = target.Driver
	}
	a.record(&DriverResultRecorded{Meta: a.meta(TypeDriverResultRecorded, c), Resource: r.Resource.Key(), Step: step, Attempt: target.Attempt, Result: result, Ignored: ignored})
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
		i = r.waitingStepOf(sender)
		if i < 0 {
			i = r.Current
		}
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

// Retry resumes a failed run: each failed step runs again as a new attempt,
// and the steps skipped because of it wait again; the results of the steps
// that succeeded are kept. The event names the first failed step.
func (a *RunAggregate) Retry(c Cause) error {
	if !a.exists {
		return fmt.Errorf("run %s: %w", a.state.ID, ErrNotFound)
	}
	if a.state.Status != RunStatusFailed {
		return fmt.Errorf("run %s is %s; only a failed run can be retried: %w", a.state.ID, a.state.Status, ErrConflict)
	}
	cur := a.state.Steps[a.state.Current]
	for _, s := range a.state.Steps {
		if s.Status == StepStatusFailed {
			cur = s
			break
		}
	}
	a.record(&RunRetried{Meta: a.meta(TypeRunRetried, c), Step: cur.ID, Attempt: cur.Attempt + 1})
	a.queue(c) // a run in a concurrency group waits for a place again
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
