package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

func causeAt(id string, t time.Time) domain.Cause {
	c := cause(id)
	c.Time = t
	return c
}

func fail(t *testing.T, r *domain.RunAggregate, step string, when time.Time) {
	t.Helper()
	if err := r.RecordResult(step, domain.DriverResult{Success: false, Message: "flaky", Driver: "d"}, causeAt("f-"+step, when)); err != nil {
		t.Fatal(err)
	}
}

func lastEvent(r *domain.RunAggregate) domain.Event { return r.Changes()[len(r.Changes())-1] }

func TestStepRetriedWithBackoffSucceedsOnItsThirdAttempt(t *testing.T) {
	r := graphRun(t,
		domain.Step{ID: "a", Driver: "d", Retry: &domain.RetryPolicy{Attempts: 3, Backoff: "10s", MaxBackoff: "15s"}},
		domain.Step{ID: "b", Driver: "d"},
	)
	r.Advance(causeAt("x1", at))
	fail(t, r, "a", at)
	r.Advance(causeAt("x2", at))
	sched, ok := lastEvent(r).(*domain.StepRetryScheduled)
	if !ok || sched.Attempt != 1 {
		t.Fatalf("after the first failure: %T %+v, want a retry scheduled", lastEvent(r), lastEvent(r))
	}
	if wait := sched.At.Sub(at); wait < 5*time.Second || wait > 10*time.Second {
		t.Errorf("first wait %s, want between half and all of 10s", wait)
	}
	if st := r.State(); st.Steps[0].Status != domain.StepStatusPending || st.Steps[1].Status != domain.StepStatusPending || st.Ended() {
		t.Fatalf("while waiting: %+v", st.Steps)
	}
	if due := r.State().NextDue(); due == nil || !due.Equal(sched.At) {
		t.Errorf("next due %v, want the retry time %v", due, sched.At)
	}
	n := len(r.Changes())
	r.Advance(causeAt("early", sched.At.Add(-time.Millisecond)))
	if len(r.Changes()) != n {
		t.Fatalf("dispatched before the wait was over: %T", lastEvent(r))
	}
	r.Advance(causeAt("x3", sched.At))
	if d, ok := lastEvent(r).(*domain.StepDispatched); !ok || d.Step != "a" || d.Attempt != 2 {
		t.Fatalf("at the retry time: %+v, want attempt 2 of a", lastEvent(r))
	}
	fail(t, r, "a", sched.At)
	r.Advance(causeAt("x4", sched.At))
	second := lastEvent(r).(*domain.StepRetryScheduled)
	if wait := second.At.Sub(sched.At); wait < 7500*time.Millisecond || wait > 15*time.Second {
		t.Errorf("second wait %s, want between half and all of 15s (20s capped)", wait)
	}
	r.Advance(causeAt("x5", second.At))
	succeed(t, r, "a", "d")
	r.Advance(causeAt("x6", second.At))
	if d, ok := lastEvent(r).(*domain.StepDispatched); !ok || d.Step != "b" {
		t.Fatalf("after the third attempt succeeded: %+v, want b dispatched", lastEvent(r))
	}
	if st := r.State().Steps[0]; st.Attempt != 3 || st.Status != domain.StepStatusSucceeded {
		t.Errorf("a: %+v", st)
	}
	sameWhenRebuilt(t, r)
}

func TestRetriesRunOut(t *testing.T) {
	r := graphRun(t,
		domain.Step{ID: "a", Driver: "d", Retry: &domain.RetryPolicy{Attempts: 2, Backoff: "1s"}},
		domain.Step{ID: "b", Driver: "d"},
	)
	r.Advance(causeAt("x1", at))
	fail(t, r, "a", at)
	r.Advance(causeAt("x2", at))
	retryAt := lastEvent(r).(*domain.StepRetryScheduled).At
	r.Advance(causeAt("x3", retryAt))
	fail(t, r, "a", retryAt)
	r.Advance(causeAt("x4", retryAt))
	st := r.State()
	if st.Status != domain.RunStatusFailed || st.Steps[1].Status != domain.StepStatusSkipped {
		t.Fatalf("after the last attempt failed: run %s, steps %+v", st.Status, st.Steps)
	}
}

func TestStepTimesOut(t *testing.T) {
	r := graphRun(t, domain.Step{ID: "a", Driver: "d", Timeout: "90s", Retry: &domain.RetryPolicy{Attempts: 2, On: []string{domain.RetryOnFailure}}})
	r.Advance(causeAt("x1", at))
	if due := r.State().NextDue(); due == nil || !due.Equal(at.Add(90*time.Second)) {
		t.Fatalf("next due %v, want the step's deadline", due)
	}
	n := len(r.Changes())
	r.Advance(causeAt("early", at.Add(89*time.Second)))
	if len(r.Changes()) != n {
		t.Fatalf("timed out early: %+v", lastEvent(r))
	}
	r.Advance(causeAt("x2", at.Add(90*time.Second)))
	st := r.State()
	if st.Status != domain.RunStatusFailed || !strings.Contains(st.Message, "no result within the step's timeout of 90s") {
		t.Fatalf("after the timeout: %s %q (a retry on failure only must not retry a timeout)", st.Status, st.Message)
	}
	if late := r.RecordResult("a", domain.DriverResult{Success: true, Driver: "d"}, causeAt("late", at.Add(91*time.Second))); late != nil {
		t.Fatal(late)
	}
	if ev := lastEvent(r).(*domain.DriverResultRecorded); ev.Ignored == "" {
		t.Errorf("a result after the timeout was applied: %+v", ev)
	}
}

func TestSilentDriverTimesOutAndIsRetried(t *testing.T) {
	r := graphRun(t, domain.Step{ID: "a", Driver: "d", Retry: &domain.RetryPolicy{Attempts: 2, Backoff: "1s"}})
	r.Advance(causeAt("x1", at))
	r.AdvanceWithSilent(causeAt("x2", at.Add(5*time.Second)), []string{"a"})
	types := []string{}
	for _, e := range r.Changes()[len(r.Changes())-2:] {
		types = append(types, e.EventMeta().Type)
	}
	if diff := cmp.Diff([]string{domain.TypeStepTimedOut, domain.TypeStepRetryScheduled}, types); diff != "" {
		t.Fatalf("a silent driver's step (-want +got):\n%s", diff)
	}
	if s := r.State().Steps[0]; !strings.Contains(r.Changes()[len(r.Changes())-2].(*domain.StepTimedOut).Reason, "heartbeats") || s.Status != domain.StepStatusPending {
		t.Errorf("step after a silent driver: %+v", s)
	}
}

func TestRunTimesOut(t *testing.T) {
	var r domain.RunAggregate
	p := domain.Pipeline{Name: "ci", Resource: "build", Timeout: "10m", Steps: []domain.Step{{ID: "a", Driver: "d"}, {ID: "b", Driver: "d"}}}
	if err := r.Start("0b7e8f7c-3c1e-4a5e-9f40-6c1f1b2f4d10", "create", p, domain.Resource{Name: "app", Type: "build"}, 1, causeAt("s", at)); err != nil {
		t.Fatal(err)
	}
	r.Advance(causeAt("x1", at))
	r.Advance(causeAt("x2", at.Add(10*time.Minute)))
	st := r.State()
	if st.Status != domain.RunStatusFailed || st.Message != "the run timed out after 10m" ||
		st.Steps[0].Status != domain.StepStatusSkipped || st.Steps[1].Status != domain.StepStatusSkipped {
		t.Fatalf("after the run's timeout: %s %q %+v", st.Status, st.Message, st.Steps)
	}
}

func TestTimeoutsAndRetriesAreChecked(t *testing.T) {
	cases := []struct {
		p    domain.Pipeline
		want string
	}{
		{domain.Pipeline{Timeout: "soon"}, `timeout: must be a positive Go duration such as "90s" or "10m", not "soon"`},
		{domain.Pipeline{Steps: []domain.Step{{ID: "a", Driver: "d", Timeout: "-1s"}}}, "steps[0].timeout: must be a positive Go duration"},
		{domain.Pipeline{Steps: []domain.Step{{ID: "a", Driver: "d", Retry: &domain.RetryPolicy{}}}}, "steps[0].retry.attempts: must be from 1 to 100"},
		{domain.Pipeline{Steps: []domain.Step{{ID: "a", Driver: "d", Retry: &domain.RetryPolicy{Attempts: 2, Backoff: "1m", MaxBackoff: "1s"}}}}, "steps[0].retry.maxBackoff: must not be shorter than backoff"},
		{domain.Pipeline{Steps: []domain.Step{{ID: "a", Driver: "d", Retry: &domain.RetryPolicy{Attempts: 2, On: []string{"always"}}}}}, `steps[0].retry.on[0]: must be "failure" or "timeout"`},
	}
	for _, c := range cases {
		c.p.Name, c.p.Resource = "ci", "build"
		if len(c.p.Steps) == 0 {
			c.p.Steps = []domain.Step{{ID: "a", Driver: "d"}}
		}
		if err := domain.CheckPipeline(c.p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}
