package domain_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

// deployRun is a run of build → deploy, whose deploy step names the group
// resource.spec.env (with retry, when given).
func deployRun(t *testing.T, c domain.Concurrency, retry *domain.RetryPolicy) *domain.RunAggregate {
	t.Helper()
	return withRun(t, `{"env":"prod"}`,
		domain.Step{ID: "build", Driver: "builder"},
		domain.Step{ID: "deploy", Driver: "shipper", Needs: []string{"build"}, Concurrency: &c, Retry: retry},
		domain.Step{ID: "notify", Driver: "notifier", Needs: []string{"deploy"}})
}

func stepOf(r *domain.RunAggregate, id string) domain.StepState {
	for _, s := range r.State().Steps {
		if s.ID == id {
			return s
		}
	}
	return domain.StepState{}
}

func shipFails(t *testing.T, r *domain.RunAggregate, when time.Time) {
	t.Helper()
	if err := r.RecordResult("deploy", domain.DriverResult{Success: false, Message: "flaky", Driver: "shipper"}, causeAt("f-"+when.String(), when)); err != nil {
		t.Fatal(err)
	}
}

func stepIDs(steps []domain.StepState) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.ID)
	}
	return out
}

// A step of a group waits for a place once its needs have succeeded: its
// status is queued, it is not dispatched, the run goes on running; once
// admitted it is dispatched; once it ends it is done with its group.
func TestAStepInAGroupIsQueuedBeforeItsDispatch(t *testing.T) {
	r := deployRun(t, domain.Concurrency{Group: "resource.spec.env"}, nil)
	r.Advance(causeAt("a1", at))
	succeed(t, r, "build", "builder")
	r.Advance(causeAt("a2", at))
	if q, ok := lastEvent(r).(*domain.StepQueued); !ok || q.Step != "deploy" || q.Concurrency.Group != "prod" || q.Concurrency.Limit != 1 || q.Concurrency.OnFull != domain.OnFullQueue {
		t.Fatalf("after build: %T %+v, want deploy queued in prod", lastEvent(r), lastEvent(r))
	}
	s := stepOf(r, "deploy")
	if s.Status != domain.StepStatusQueued || s.Reason != `waits for a place in concurrency group "prod" (limit 1)` || s.HoldsPlace {
		t.Fatalf("queued step: %+v", s)
	}
	if st := r.State(); st.Status != domain.RunStatusRunning || st.Ended() || len(st.InFlight()) != 0 {
		t.Fatalf("run: %s, in flight %v", st.Status, st.InFlight())
	}
	queued, done := r.State().StepPlaces()
	if diff := cmp.Diff([]string{"deploy"}, stepIDs(queued)); diff != "" || len(done) != 0 {
		t.Fatalf("places: queued (-want +got) %s, done %v", diff, stepIDs(done))
	}
	n := len(r.Changes())
	r.Advance(causeAt("a3", at))
	if len(r.Changes()) != n {
		t.Fatalf("a queued step made the run decide %v", types(r.Changes()[n:]))
	}

	r.AdmitStep("deploy", causeAt("admit", at))
	r.Advance(causeAt("a4", at))
	if diff := cmp.Diff([]string{domain.TypeStepAdmitted, domain.TypeStepDispatched}, types(r.Changes()[n:])); diff != "" {
		t.Fatalf("after admission (-want +got):\n%s", diff)
	}
	if s := stepOf(r, "deploy"); s.Status != domain.StepStatusDispatched || !s.HoldsPlace || s.Reason != "" || !r.State().HoldsStepPlace("deploy") {
		t.Fatalf("admitted step: %+v", s)
	}
	succeed(t, r, "deploy", "shipper")
	queued, done = r.State().StepPlaces()
	if diff := cmp.Diff([]string{"deploy"}, stepIDs(done)); diff != "" || len(queued) != 0 || r.State().HoldsStepPlace("deploy") {
		t.Fatalf("after deploy: done (-want +got) %s, queued %v", diff, stepIDs(queued))
	}
}

// A step that fails and is retried keeps its place between attempts: it
// is dispatched again without waiting in its group; after its last
// attempt it is done with the group.
func TestARetriedStepKeepsItsPlace(t *testing.T) {
	r := deployRun(t, domain.Concurrency{Group: "resource.spec.env"}, &domain.RetryPolicy{Attempts: 2, Backoff: "10s"})
	r.Advance(causeAt("a1", at))
	succeed(t, r, "build", "builder")
	r.Advance(causeAt("a2", at))
	r.AdmitStep("deploy", causeAt("admit", at))
	r.Advance(causeAt("a3", at))
	shipFails(t, r, at)
	r.Advance(causeAt("a4", at))
	if _, ok := lastEvent(r).(*domain.StepRetryScheduled); !ok {
		t.Fatalf("after the first failure: %T", lastEvent(r))
	}
	if queued, done := r.State().StepPlaces(); len(queued)+len(done) != 0 || !r.State().HoldsStepPlace("deploy") {
		t.Fatalf("a step waiting for its retry: queued %v, done %v, holds %v", stepIDs(queued), stepIDs(done), r.State().HoldsStepPlace("deploy"))
	}
	n := len(r.Changes())
	r.Advance(causeAt("a5", at.Add(time.Minute)))
	if diff := cmp.Diff([]string{domain.TypeStepDispatched}, types(r.Changes()[n:])); diff != "" {
		t.Fatalf("the retry (-want +got):\n%s", diff)
	}
	shipFails(t, r, at.Add(time.Minute))
	if _, done := r.State().StepPlaces(); !slices.Equal(stepIDs(done), []string{"deploy"}) {
		t.Fatalf("after the last attempt: done %v", stepIDs(done))
	}
}

// skip: the step is skipped, saying why, and so are the steps that need
// it, as when a condition is false; the run ends succeeded.
func TestASkippedStepSkipsItsDependants(t *testing.T) {
	r := deployRun(t, domain.Concurrency{Group: "resource.spec.env", OnFull: domain.OnFullSkip}, nil)
	r.Advance(causeAt("a1", at))
	succeed(t, r, "build", "builder")
	r.Advance(causeAt("a2", at))
	r.SkipStep("deploy", false, causeAt("skip", at))
	r.Advance(causeAt("a3", at))
	s, n := stepOf(r, "deploy"), stepOf(r, "notify")
	if s.Status != domain.StepStatusSkipped || s.Reason != `skipped: concurrency group "prod" is full (limit 1, onFull skip)` {
		t.Errorf("deploy: %s %q", s.Status, s.Reason)
	}
	if n.Status != domain.StepStatusSkipped || n.Reason != "needs step deploy, which was skipped" {
		t.Errorf("notify: %s %q", n.Status, n.Reason)
	}
	if st := r.State(); st.Status != domain.RunStatusSucceeded {
		t.Errorf("run %s, want succeeded", st.Status)
	}
	r2 := deployRun(t, domain.Concurrency{Group: "resource.spec.env", OnFull: domain.OnFullCancelRunning}, nil)
	r2.Advance(causeAt("a1", at))
	succeed(t, r2, "build", "builder")
	r2.Advance(causeAt("a2", at))
	r2.SkipStep("deploy", true, causeAt("skip", at))
	if s := stepOf(r2, "deploy"); !strings.HasPrefix(s.Reason, "skipped: runs made after this one hold concurrency group") {
		t.Errorf("superseded deploy: %q", s.Reason)
	}
}

// A run cancelled while its step waits skips the step, which is then done
// with its group (it leaves the queue).
func TestCancellingARunEndsItsQueuedStep(t *testing.T) {
	r := deployRun(t, domain.Concurrency{Group: "resource.spec.env"}, nil)
	r.Advance(causeAt("a1", at))
	succeed(t, r, "build", "builder")
	r.Advance(causeAt("a2", at))
	if err := r.Cancel("no longer needed", causeAt("c", at)); err != nil {
		t.Fatal(err)
	}
	if s := stepOf(r, "deploy"); s.Status != domain.StepStatusSkipped {
		t.Errorf("deploy: %s", s.Status)
	}
	if _, done := r.State().StepPlaces(); !slices.Equal(stepIDs(done), []string{"deploy"}) {
		t.Errorf("done %v", stepIDs(done))
	}
	r.AdmitStep("deploy", causeAt("late", at))
	if _, ok := lastEvent(r).(*domain.RunCancelled); !ok {
		t.Errorf("a late admission of a cancelled run's step recorded %T", lastEvent(r))
	}
}

// Each instance of a matrix step takes a place of its own, in the group
// its expression gives it.
func TestEachMatrixInstanceTakesItsOwnPlace(t *testing.T) {
	r := withRun(t, `{}`, domain.Step{ID: "deploy", Driver: "shipper", Needs: []string{},
		Matrix:      domain.Matrix{"env": json.RawMessage(`["staging","prod"]`)},
		Concurrency: &domain.Concurrency{Group: "matrix.env"}})
	r.Advance(causeAt("a1", at))
	var groups []string
	for _, e := range r.Changes() {
		if q, ok := e.(*domain.StepQueued); ok {
			groups = append(groups, q.Concurrency.Group)
		}
	}
	if diff := cmp.Diff([]string{"staging", "prod"}, groups); diff != "" {
		t.Fatalf("groups (-want +got):\n%s", diff)
	}
	if queued, _ := r.State().StepPlaces(); len(queued) != 2 || queued[0].ID == queued[1].ID {
		t.Fatalf("queued %v", stepIDs(queued))
	}
}

// A step's concurrency is checked as a pipeline's, each problem naming
// the step's field.
func TestStepConcurrencyChecks(t *testing.T) {
	for _, c := range []struct {
		conc  domain.Concurrency
		field string
	}{
		{domain.Concurrency{Group: "resource.name", Limit: limit(0)}, "steps[1].concurrency.limit"},
		{domain.Concurrency{Group: "resource.name", OnFull: "drop"}, "steps[1].concurrency.onFull"},
		{domain.Concurrency{}, "steps[1].concurrency.group"},
		{domain.Concurrency{Group: "resource.!!"}, "steps[1].concurrency.group"},
	} {
		p := domain.Pipeline{Name: "deploy", Resource: "build", Steps: []domain.Step{{ID: "build", Driver: "builder"},
			{ID: "ship", Driver: "shipper", Concurrency: &c.conc}}}
		err := domain.CheckPipeline(p)
		if problems := domain.CheckConditions(p, paths{}); len(problems) > 0 {
			err = errors.Join(err, problems)
		}
		var ve domain.ValidationErrors
		if !errors.As(err, &ve) || !slices.ContainsFunc(ve, func(v *domain.ValidationError) bool { return v.Field == c.field }) {
			t.Errorf("%+v: %v, want a problem with %s", c.conc, err, c.field)
		}
	}
}

// A group holds runs and steps of runs side by side: a run and its own
// step are two holders; a step holder's events name the step, a run
// holder's do not (they read as before steps could hold places), and
// releasing a step lets in the next holder, a run or a step.
func TestGroupWithStepHolders(t *testing.T) {
	g := group(t, nil)
	step1 := domain.Holder{RunID: r1, Step: "deploy"}
	if got := g.JoinAs(step1, 1, domain.OnFullQueue, 10, cause("1")); got != domain.Admitted {
		t.Fatalf("first step: %s", got)
	}
	if got := g.Join(r1, 1, domain.OnFullQueue, 10, cause("2")); got != domain.Queued {
		t.Fatalf("the step's own run: %s, want queued behind its step", got)
	}
	step2 := domain.Holder{RunID: r2, Step: "deploy"}
	if got := g.JoinAs(step2, 1, domain.OnFullQueue, 20, cause("3")); got != domain.Queued {
		t.Fatalf("second step: %s", got)
	}
	if diff := cmp.Diff([]string{r1 + "/deploy"}, g.State().Running); diff != "" {
		t.Errorf("running (-want +got):\n%s", diff)
	}
	if g.State().Position(r1) != 1 || g.State().Position(r2+"/deploy") != 2 {
		t.Errorf("positions: %+v", g.State())
	}
	admitted := g.LeaveAs(step1, "the step succeeded", cause("4"))
	if diff := cmp.Diff([]domain.Holder{{RunID: r1}}, admitted); diff != "" {
		t.Errorf("admitted (-want +got):\n%s", diff)
	}
	for _, e := range g.Changes() {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		_ = json.Unmarshal(data, &fields)
		step, named := fields["step"]
		switch ev := e.(type) {
		case *domain.GroupRunAdmitted:
			if named != (ev.Step != "") || named && step != ev.Step {
				t.Errorf("%s: %s", e.EventMeta().Type, data)
			}
		case *domain.GroupRunQueued:
			if named != (ev.Step != "") {
				t.Errorf("%s: %s", e.EventMeta().Type, data)
			}
		case *domain.GroupRunReleased:
			if step != "deploy" {
				t.Errorf("%s: %s", e.EventMeta().Type, data)
			}
		}
	}
	// The events, read back, give the same group.
	again := domain.NewGroup("prod")
	for _, e := range g.Changes() {
		data, _ := json.Marshal(e)
		decoded, err := domain.DecodeEvent(data)
		if err != nil {
			t.Fatal(err)
		}
		again.Apply(decoded)
	}
	if diff := cmp.Diff(g.State(), again.State()); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
}

// An event of a run holder as servers wrote it before steps could hold
// places (no step field) still reads as the run's.
func TestAGroupEventOfBeforeReadsTheSame(t *testing.T) {
	old := `{"id":"e1","type":"ConcurrencyRunAdmitted.v1","aggregate":"concurrency","aggregateId":"g","version":1,` +
		`"time":"2026-01-01T00:00:00Z","group":"prod","runId":"` + r1 + `","order":7}`
	e, err := domain.DecodeEvent([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	g := group(t, []domain.Event{e})
	if diff := cmp.Diff([]string{r1}, g.State().Running); diff != "" {
		t.Fatalf("running (-want +got):\n%s", diff)
	}
	if got := g.Join(r1, 1, domain.OnFullQueue, 7, cause("x")); got != domain.Admitted || len(g.Changes()) != 0 {
		t.Errorf("the run joins again: %s, %d events", got, len(g.Changes()))
	}
	if got := g.JoinAs(domain.Holder{RunID: r1, Step: "deploy"}, 1, domain.OnFullSkip, 7, cause("y")); got != domain.Skipped {
		t.Errorf("its step: %s, want skipped (the run holds the place)", got)
	}
}

// A failed run retried asks for a place again for its step: the run left
// its groups when it failed.
func TestARetriedRunQueuesItsStepAgain(t *testing.T) {
	r := deployRun(t, domain.Concurrency{Group: "resource.spec.env"}, nil)
	r.Advance(causeAt("a1", at))
	succeed(t, r, "build", "builder")
	r.Advance(causeAt("a2", at))
	r.AdmitStep("deploy", causeAt("admit", at))
	r.Advance(causeAt("a3", at))
	shipFails(t, r, at)
	r.Advance(causeAt("a4", at))
	if st := r.State(); st.Status != domain.RunStatusFailed {
		t.Fatalf("run %s, want failed", st.Status)
	}
	if _, done := r.State().StepPlaces(); !slices.Equal(stepIDs(done), []string{"deploy"}) {
		t.Fatalf("after the failure: done %v", stepIDs(done))
	}
	if err := r.Retry(causeAt("retry", at)); err != nil {
		t.Fatal(err)
	}
	r.Advance(causeAt("a5", at))
	if q, ok := lastEvent(r).(*domain.StepQueued); !ok || q.Step != "deploy" {
		t.Fatalf("after the retry: %T %+v, want deploy queued again", lastEvent(r), lastEvent(r))
	}
	if s := stepOf(r, "deploy"); s.Status != domain.StepStatusQueued || s.HoldsPlace || s.Attempt != 1 {
		t.Errorf("the retried step: %+v", s)
	}
}
