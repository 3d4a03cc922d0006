package domain

import "fmt"

// StepTypeApproval is the type of a step that runs no driver: it waits for
// a person to approve or reject it (POST /runs/{id}/steps/{step}/approve or
// /reject). Its timeout, if any, bounds the wait.
const StepTypeApproval = "approval"

// StepStatusWaiting is an approval step's status while it waits for a
// decision.
const StepStatusWaiting = "waiting"

// Approval events.
const (
	TypeApprovalRequested = "ApprovalRequested.v1"
	TypeStepApproved      = "StepApproved.v1"
	TypeStepRejected      = "StepRejected.v1"
)

// ApprovalRequested: an approval step's needs were met; it waits for a
// decision.
type ApprovalRequested struct {
	Meta
	Step string `json:"step"`
}

// StepApproved: someone approved a waiting approval step; By names them
// (the actor of the request), Comment is theirs.
type StepApproved struct {
	Meta
	Step    string `json:"step"`
	By      string `json:"by,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// StepRejected: someone rejected a waiting approval step; it fails, and
// what needs it is skipped.
type StepRejected struct {
	Meta
	Step    string `json:"step"`
	By      string `json:"by,omitempty"`
	Comment string `json:"comment,omitempty"`
}

func init() {
	register(TypeApprovalRequested, func() Event { return &ApprovalRequested{} })
	register(TypeStepApproved, func() Event { return &StepApproved{} })
	register(TypeStepRejected, func() Event { return &StepRejected{} })
}

// isApproval reports whether step i of the run waits for people.
func (r *Run) isApproval(i int) bool {
	return len(r.Pipeline.Steps) == len(r.Steps) && r.Pipeline.Steps[i].Type == StepTypeApproval
}

// Decide approves or rejects the waiting approval step, on behalf of by,
// with comment; then the run goes on as Advance decides.
func (a *RunAggregate) Decide(step string, approve bool, by, comment string, c Cause) error {
	if !a.exists {
		return fmt.Errorf("run %s: %w", a.state.ID, ErrNotFound)
	}
	r := a.state
	if r.Ended() {
		return fmt.Errorf("run %s has already ended (%s): %w", r.ID, r.Status, ErrConflict)
	}
	i := r.stepIndex(step)
	if i < 0 {
		return notFound("step", step)
	}
	if !r.isApproval(i) {
		return Invalid("step", fmt.Sprintf("step %s runs driver %s; only a step of type approval can be approved or rejected", step, r.Steps[i].Driver))
	}
	if s := r.Steps[i]; s.Status != StepStatusWaiting {
		return fmt.Errorf("step %s is %s, not waiting for approval: %w", step, s.Status, ErrConflict)
	}
	if approve {
		a.record(&StepApproved{Meta: a.meta(TypeStepApproved, c), Step: step, By: by, Comment: comment})
	} else {
		a.record(&StepRejected{Meta: a.meta(TypeStepRejected, c), Step: step, By: by, Comment: comment})
	}
	a.Advance(c)
	return nil
}

// decision is the result an approval step gets from a decision.
func decision(verb, by, comment string) DriverResult {
	msg := verb
	if by != "" {
		msg += " by " + by
	}
	if comment != "" {
		msg += ": " + comment
	}
	return DriverResult{Success: verb == "approved", Message: msg}
}
