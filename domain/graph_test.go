package domain_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

// graphRun starts a run of a pipeline whose steps are given as id:driver
// with their needs.
func graphRun(t *testing.T, steps ...domain.Step) *domain.RunAggregate {
	t.Helper()
	var r domain.RunAggregate
	p := domain.Pipeline{Name: "ci", Resource: "build", Steps: steps}
	if err := domain.CheckPipeline(p); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	res := domain.Resource{ID: "rid", Name: "app", Type: "build", Spec: []byte(`{}`), Metadata: map[string]string{"version": "1"}}
	if err := r.Start("0b7e8f7c-3c1e-4a5e-9f40-6c1f1b2f4d10", "create", p, res, 1, cause("start")); err != nil {
		t.Fatal(err)
	}
	return &r
}

// diamond is a → b, c → d.
func diamond() []domain.Step {
	return []domain.Step{
		{ID: "a", Driver: "da"},
		{ID: "b", Driver: "db", Needs: []string{"a"}},
		{ID: "c", Driver: "dc", Needs: []string{"a"}},
		{ID: "d", Driver: "dd", Needs: []string{"b", "c"}},
	}
}

// dispatchedNow is the ids of the steps the last Advance dispatched.
func dispatchedNow(r *domain.RunAggregate, before int) []string {
	var ids []string
	for _, e := range r.Changes()[before:] {
		if d, ok := e.(*domain.StepDispatched); ok {
			ids = append(ids, d.Step)
		}
	}
	return ids
}

func advance(r *domain.RunAggregate, id string) []string {
	before := len(r.Changes())
	r.Advance(cause(id))
	return dispatchedNow(r, before)
}

func succeed(t *testing.T, r *domain.RunAggregate, step, driver string) {
	t.Helper()
	if err := r.RecordResult(step, domain.DriverResult{Success: true, Message: step + " done", Driver: driver}, cause("r-"+step)); err != nil {
		t.Fatal(err)
	}
}

func TestDiamondRunsBranchesSideBySide(t *testing.T) {
	r := graphRun(t, diamond()...)
	if got := advance(r, "x1"); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("first dispatch %v, want [a]", got)
	}
	succeed(t, r, "a", "da")
	if got := advance(r, "x2"); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("after a: dispatched %v, want [b c] together", got)
	}
	for _, e := range r.Changes() {
		if d, ok := e.(*domain.StepDispatched); ok {
			want := "process"
			if d.Step == "a" {
				want = "create"
			}
			if d.Event != want {
				t.Errorf("step %s dispatched as %q, want %q", d.Step, d.Event, want)
			}
		}
	}
	succeed(t, r, "c", "dc")
	if got := advance(r, "x3"); len(got) != 0 {
		t.Fatalf("d dispatched %v before b succeeded", got)
	}
	succeed(t, r, "b", "db")
	if got := advance(r, "x4"); !slices.Equal(got, []string{"d"}) {
		t.Fatalf("after b and c: dispatched %v, want [d]", got)
	}
	payload := r.State().Payload("d")
	for _, driver := range []string{"da", "db", "dc"} {
		if !strings.Contains(payload.Metadata[domain.MetaResultPrefix+driver], `"success":true`) {
			t.Errorf("d's payload lacks the result of %s: %v", driver, payload.Metadata)
		}
	}
	if _, ok := r.State().Payload("b").Metadata[domain.MetaResultPrefix+"dc"]; ok {
		t.Error("b's payload holds the result of c, which b does not need")
	}
	succeed(t, r, "d", "dd")
	r.Advance(cause("x5"))
	if s := r.State(); s.Status != domain.RunStatusSucceeded {
		t.Fatalf("run %s, want succeeded", s.Status)
	}
}

func TestFailedBranchSkipsItsDependantsWhileTheOtherFinishes(t *testing.T) {
	r := graphRun(t,
		domain.Step{ID: "a", Driver: "da"},
		domain.Step{ID: "b", Driver: "db", Needs: []string{"a"}},
		domain.Step{ID: "b2", Driver: "db2", Needs: []string{"b"}},
		domain.Step{ID: "c", Driver: "dc", Needs: []string{"a"}},
		domain.Step{ID: "c2", Driver: "dc2", Needs: []string{"c"}},
	)
	advance(r, "x1")
	succeed(t, r, "a", "da")
	advance(r, "x2")
	if err := r.RecordResult("b", domain.DriverResult{Success: false, Message: "tests failed", Driver: "db"}, cause("rb")); err != nil {
		t.Fatal(err)
	}
	if got := advance(r, "x3"); len(got) != 0 || r.State().Ended() {
		t.Fatalf("after b failed with c running: dispatched %v, run %s; want nothing and the run going on", got, r.State().Status)
	}
	if s := r.State().Steps[2]; s.Status != domain.StepStatusSkipped || !strings.Contains(s.Reason, "b, which failed") {
		t.Errorf("b2 after b failed: %+v", s)
	}
	succeed(t, r, "c", "dc")
	if got := advance(r, "x4"); !slices.Equal(got, []string{"c2"}) {
		t.Fatalf("the independent branch went on with %v, want [c2]", got)
	}
	succeed(t, r, "c2", "dc2")
	r.Advance(cause("x5"))
	s := r.State()
	if s.Status != domain.RunStatusFailed || !strings.Contains(s.Message, "step b (driver db) failed: tests failed") {
		t.Fatalf("run %s %q, want failed because of b", s.Status, s.Message)
	}
	if err := r.Retry(cause("retry")); err != nil {
		t.Fatal(err)
	}
	if got := advance(r, "x6"); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("retry dispatched %v, want [b] again", got)
	}
	if st := r.State(); st.Steps[1].Attempt != 2 || st.Steps[2].Status != domain.StepStatusPending || st.Steps[4].Status != domain.StepStatusSucceeded {
		t.Errorf("after retry: %+v", st.Steps)
	}
	sameWhenRebuilt(t, r)
}

func TestResultWithoutStepGoesToTheDriversWaitingStep(t *testing.T) {
	r := graphRun(t,
		domain.Step{ID: "lint", Driver: "linter"},
		domain.Step{ID: "test", Driver: "tester", Needs: []string{}},
	)
	if got := advance(r, "x1"); !slices.Equal(got, []string{"lint", "test"}) {
		t.Fatalf("two roots: dispatched %v, want both at once", got)
	}
	succeed(t, r, "", "tester")
	last := r.Changes()[len(r.Changes())-1].(*domain.DriverResultRecorded)
	if last.Step != "test" || last.Ignored != "" {
		t.Fatalf("a result without a step from tester: %+v", last)
	}
	succeed(t, r, "", "nobody")
	last = r.Changes()[len(r.Changes())-1].(*domain.DriverResultRecorded)
	if !strings.Contains(last.Ignored, "no step of driver nobody waits") {
		t.Fatalf("a result of a driver with no waiting step: %+v", last)
	}
}

func TestNeedsAreChecked(t *testing.T) {
	step := func(id string, needs ...string) domain.Step {
		return domain.Step{ID: id, Driver: "d", Needs: needs}
	}
	cases := []struct {
		name  string
		steps []domain.Step
		want  string
	}{
		{"unknown", []domain.Step{step("a"), step("b", "zzz")}, `steps[1].needs[0]: names no step of this pipeline: "zzz"`},
		{"twice", []domain.Step{step("a"), step("b", "a", "a")}, `steps[1].needs[1]: names step "a" twice`},
		{"itself", []domain.Step{step("a", "a")}, "steps[0].needs: closes a cycle: a needs a"},
		{"cycle", []domain.Step{step("a", "c"), step("b", "a"), step("c", "b")}, "steps[0].needs: closes a cycle: a needs c needs b needs a"},
		{"through the default", []domain.Step{step("a", "b"), {ID: "b", Driver: "d"}}, "closes a cycle: a needs b needs a"},
	}
	for _, c := range cases {
		err := domain.CheckPipeline(domain.Pipeline{Name: "ci", Resource: "build", Steps: c.steps})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
	if err := domain.CheckPipeline(domain.Pipeline{Name: "ci", Resource: "build", Steps: diamond()}); err != nil {
		t.Errorf("diamond refused: %v", err)
	}
}

func TestEmptyNeedsSurviveJSON(t *testing.T) {
	p := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "a", Driver: "d"}, {ID: "b", Driver: "d", Needs: []string{}}}}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(data), `"needs"`) != 1 || !strings.Contains(string(data), `"needs":[]`) {
		t.Fatalf("encoded %s: want needs absent on a and [] on b", data)
	}
	var back domain.Pipeline
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Steps[0].Needs != nil || back.Steps[1].Needs == nil || len(back.Steps[1].Needs) != 0 {
		t.Fatalf("decoded needs %#v and %#v", back.Steps[0].Needs, back.Steps[1].Needs)
	}
	if got := back.NeedsOf(1); len(got) != 0 {
		t.Fatalf("b needs %v after a round trip, want none", got)
	}
}

// sameWhenRebuilt folds r's recorded events into a new aggregate, fails the
// test when its state differs from r's, and returns it.
func sameWhenRebuilt(t *testing.T, r *domain.RunAggregate) *domain.RunAggregate {
	t.Helper()
	rebuilt := &domain.RunAggregate{}
	for _, e := range r.Changes() {
		rebuilt.Apply(e)
	}
	if diff := cmp.Diff(r.State(), rebuilt.State()); diff != "" {
		t.Errorf("rebuilt from the events differs (-recorded +rebuilt):\n%s", diff)
	}
	return rebuilt
}
