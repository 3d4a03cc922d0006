package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
)

func approvalRun(t *testing.T, timeout string) *domain.RunAggregate {
	return graphRun(t,
		domain.Step{ID: "build", Driver: "d"},
		domain.Step{ID: "gate", Type: domain.StepTypeApproval, Timeout: timeout},
		domain.Step{ID: "deploy", Driver: "deployer"},
	)
}

func TestApprovalWaitsForItsDecision(t *testing.T) {
	r := approvalRun(t, "")
	r.Advance(cause("x1"))
	if err := r.Decide("gate", true, "ann", "", cause("early")); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("approving a step that does not wait yet: %v, want a conflict", err)
	}
	succeed(t, r, "build", "d")
	r.Advance(cause("x2"))
	if _, ok := lastEvent(r).(*domain.ApprovalRequested); !ok {
		t.Fatalf("after build: %T, want the approval requested", lastEvent(r))
	}
	n := len(r.Changes())
	r.Advance(cause("x3"))
	if len(r.Changes()) != n || r.State().Ended() {
		t.Fatalf("the run moved on without a decision: %T", lastEvent(r))
	}
	if err := r.Decide("build", true, "ann", "", cause("wrong")); !errors.As(err, new(*domain.ValidationError)) {
		t.Errorf("approving a driver's step: %v, want invalid", err)
	}
	if err := r.Decide("gate", true, "ann", "staging looks good", cause("ok")); err != nil {
		t.Fatal(err)
	}
	if d, ok := lastEvent(r).(*domain.StepDispatched); !ok || d.Step != "deploy" {
		t.Fatalf("after the approval: %+v, want deploy dispatched in the same decision", lastEvent(r))
	}
	gate := r.State().Steps[1]
	if gate.Status != domain.StepStatusSucceeded || gate.Result.Message != "approved by ann: staging looks good" {
		t.Errorf("gate %+v %+v", gate, gate.Result)
	}
	if _, ok := r.State().Payload("deploy").Metadata[domain.MetaResultPrefix]; ok {
		t.Error("the approval's decision went into the payload as a driver's result")
	}
}

func TestRejectedApprovalFailsTheRun(t *testing.T) {
	r := approvalRun(t, "")
	r.Advance(cause("x1"))
	succeed(t, r, "build", "d")
	r.Advance(cause("x2"))
	if err := r.Decide("gate", false, "bob", "not on a Friday", cause("no")); err != nil {
		t.Fatal(err)
	}
	st := r.State()
	if st.Status != domain.RunStatusFailed || !strings.Contains(st.Message, "rejected by bob: not on a Friday") || st.Steps[2].Status != domain.StepStatusSkipped {
		t.Fatalf("after the rejection: %s %q %+v", st.Status, st.Message, st.Steps)
	}
}

func TestApprovalTimesOut(t *testing.T) {
	r := approvalRun(t, "1h")
	r.Advance(causeAt("x1", at))
	succeed(t, r, "build", "d")
	r.Advance(causeAt("x2", at))
	if due := r.State().NextDue(); due == nil || !due.Equal(at.Add(time.Hour)) {
		t.Fatalf("next due %v, want the approval's deadline", due)
	}
	r.Advance(causeAt("x3", at.Add(time.Hour)))
	if st := r.State(); st.Status != domain.RunStatusFailed || !strings.Contains(st.Message, "no decision within the approval's timeout of 1h") {
		t.Fatalf("after the approval's timeout: %s %q", st.Status, st.Message)
	}
}

func TestApprovalStepsAreChecked(t *testing.T) {
	for _, c := range []struct {
		step domain.Step
		want string
	}{
		{domain.Step{ID: "gate", Type: domain.StepTypeApproval, Driver: "d"}, "steps[0].driver: must be absent"},
		{domain.Step{ID: "gate", Type: domain.StepTypeApproval, Retry: &domain.RetryPolicy{Attempts: 2}}, "steps[0].retry: must be absent"},
		{domain.Step{ID: "gate", Type: "manual"}, `steps[0].type: must be absent (a driver's step) or "approval", not "manual"`},
	} {
		err := domain.CheckPipeline(domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{c.step}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.step, err, c.want)
		}
	}
}
