package domain

import "fmt"

// Step-level concurrency. A step whose pipeline step names `concurrency`
// takes a place in its group before it is dispatched: once its needs have
// succeeded and its condition is true, the run records StepQueued (the
// step's status is queued; the run goes on running), the engine asks the
// group, and the run records StepAdmitted when the group gives the step a
// place; then the step is dispatched as any other. It holds the place
// until it ends for good (after its last attempt: a step that is retried
// keeps its place between attempts), or its run ends.

// StepStatusQueued is the status of a step that waits for a place in its
// concurrency group. The step has not been dispatched.
const StepStatusQueued = "queued"

// Run events of step-level concurrency groups.
const (
	TypeStepQueued   = "StepQueued.v1"
	TypeStepAdmitted = "StepAdmitted.v1"
)

// StepQueued: a step that was ready to be dispatched waits for a place in
// its concurrency group. Order is the log position of the resource change
// that started the run (0: unknown): the group's queue keeps steps in the
// order their runs were made.
type StepQueued struct {
	Meta
	Step        string         `json:"step"`
	Concurrency RunConcurrency `json:"concurrency"`
}

// StepAdmitted: the step's group gave it a place; it is dispatched.
type StepAdmitted struct {
	Meta
	Step  string `json:"step"`
	Group string `json:"group"`
}

func init() {
	register(TypeStepQueued, func() Event { return &StepQueued{} })
	register(TypeStepAdmitted, func() Event { return &StepAdmitted{} })
}

// applyStepConcurrency folds the step-level concurrency events into the run.
func (r *Run) applyStepConcurrency(e Event) {
	switch e := e.(type) {
	case *StepQueued:
		if i := r.stepIndex(e.Step); i >= 0 {
			s := &r.Steps[i]
			c := e.Concurrency
			s.Status, s.Concurrency, s.HoldsPlace = StepStatusQueued, &c, false
			s.Reason = fmt.Sprintf("waits for a place in concurrency group %q (limit %d)", c.Group, c.Limit)
		}
	case *StepAdmitted:
		if i := r.stepIndex(e.Step); i >= 0 && r.Steps[i].Status == StepStatusQueued {
			s := &r.Steps[i]
			s.Status, s.HoldsPlace, s.Reason = StepStatusPending, true, ""
		}
	}
}

// takePlace decides, for ready step i, whether it may be dispatched now:
// a step without concurrency, or one that holds its place already (a
// retry), may (goOn is true). Otherwise it records StepQueued, or fails the
// step (ConditionFailed, not retried) when its group expression cannot be
// evaluated; failed is then true.
func (a *RunAggregate) takePlace(i int, c Cause) (goOn, failed bool) {
	r := a.state
	if len(r.Pipeline.Steps) != len(r.Steps) || r.Pipeline.Steps[i].Concurrency == nil || r.Steps[i].HoldsPlace {
		return true, false
	}
	conc := *r.Pipeline.Steps[i].Concurrency
	s := r.Steps[i]
	name, err := groupName(conc, a.conditions, r.conditionInput(i))
	if err != nil {
		a.record(&ConditionFailed{Meta: a.meta(TypeConditionFailed, c), Step: s.ID,
			Reason: "the concurrency group could not be evaluated: " + err.Error()})
		return false, true
	}
	a.record(&StepQueued{Meta: a.meta(TypeStepQueued, c), Step: s.ID,
		Concurrency: RunConcurrency{Group: name, Limit: conc.limit(), OnFull: conc.onFull(), Order: r.Order}})
	return false, false
}

// waitsForPlace reports whether a step waits for a place in its group.
func (r Run) waitsForPlace() bool {
	for _, s := range r.Steps {
		if s.Status == StepStatusQueued {
			return true
		}
	}
	return false
}

// StepPlaces is what the run's steps that name a concurrency group need of
// their groups: queued, the steps that wait for a place (they join their
// group); done, the steps that entered a group and are done with it (they
// leave it: it records nothing for a step it does not hold). A step is
// done with its group when it ended for good (succeeded, skipped, or
// failed with no attempt left) or its run ended.
func (r Run) StepPlaces() (queued, done []StepState) {
	for i, s := range r.Steps {
		if s.Concurrency == nil {
			continue
		}
		switch {
		case r.Ended() || s.Status == StepStatusSucceeded || s.Status == StepStatusSkipped:
			done = append(done, s)
		case s.Status == StepStatusFailed && !r.retries(i, r.failureKind(i)):
			done = append(done, s)
		case s.Status == StepStatusQueued:
			queued = append(queued, s)
		}
	}
	return queued, done
}

// AdmitStep records that step's group gave the queued step a place. A
// step that is not queued records nothing.
func (a *RunAggregate) AdmitStep(step string, c Cause) {
	i := a.state.stepIndex(step)
	if !a.exists || a.state.Ended() || i < 0 || a.state.Steps[i].Status != StepStatusQueued || a.state.Steps[i].Concurrency == nil {
		return
	}
	a.record(&StepAdmitted{Meta: a.meta(TypeStepAdmitted, c), Step: step, Group: a.state.Steps[i].Concurrency.Group})
}

// SkipStep ends a queued step whose group is full and whose onFull is
// skip, or whose group newer runs hold (cancel-running, superseded): it is
// skipped, as a step whose condition is false, and so are the steps that
// need it. A step that is not queued records nothing.
func (a *RunAggregate) SkipStep(step string, superseded bool, c Cause) {
	i := a.state.stepIndex(step)
	if !a.exists || a.state.Ended() || i < 0 || a.state.Steps[i].Status != StepStatusQueued || a.state.Steps[i].Concurrency == nil {
		return
	}
	g := a.state.Steps[i].Concurrency
	reason := fmt.Sprintf("skipped: concurrency group %q is full (limit %d, onFull skip)", g.Group, g.Limit)
	if superseded {
		reason = fmt.Sprintf("skipped: runs made after this one hold concurrency group %q (cancel-running)", g.Group)
	}
	a.record(&StepSkipped{Meta: a.meta(TypeStepSkipped, c), Step: step, Reason: reason})
}

// hasStepConcurrency reports whether a step of p names a concurrency group.
func (p Pipeline) hasStepConcurrency() bool {
	for _, s := range p.Steps {
		if s.Concurrency != nil {
			return true
		}
	}
	return false
}

// HoldsStepPlace reports whether step holds a place in its concurrency
// group and is not done with it: it waits for a place, or was given one
// and has not ended for good.
func (r Run) HoldsStepPlace(step string) bool {
	i := r.stepIndex(step)
	if r.Ended() || i < 0 || r.Steps[i].Concurrency == nil {
		return false
	}
	switch s := r.Steps[i]; s.Status {
	case StepStatusSucceeded, StepStatusSkipped:
		return false
	case StepStatusFailed:
		return r.retries(i, r.failureKind(i))
	}
	return true
}
