package domain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

var at = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func cause(id string) domain.Cause {
	return domain.Cause{EventID: id, Time: at, CorrelationID: "corr-" + id, CausationID: "cmd-" + id}
}

func TestNameRule(t *testing.T) {
	valid := []string{"a", "build", "app-1", "a_b", "0", strings.Repeat("a", 63), "x-y_z9"}
	invalid := []string{"", "Build", "a.b", "a b", "-a", "a-", "_a", "a_", strings.Repeat("a", 64), "a*", "a>", "a/b", "ä"}
	for _, n := range valid {
		if !domain.ValidName(n) || domain.CheckName("name", n) != nil {
			t.Errorf("%q rejected", n)
		}
	}
	for _, n := range invalid {
		err := domain.CheckName("name", n)
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || ve.Field != "name" || !strings.Contains(ve.Rule, domain.NameRule) {
			t.Errorf("%q: %v, want a ValidationError stating the rule", n, err)
		}
	}
}

func TestDefinitionLifecycle(t *testing.T) {
	def := domain.ResourceDefinition{Name: "build", Schema: []byte(`{"type":"object"}`), Version: "1.0.0"}
	var d domain.Definition
	if err := d.Create(def, "id-1", cause("e1")); err != nil {
		t.Fatal(err)
	}
	want := []domain.Event{&domain.ResourceDefinitionCreated{
		Meta: domain.Meta{ID: "e1", Type: domain.TypeDefinitionCreated, Aggregate: "definition", AggregateID: "build",
			Version: 1, Time: at, CorrelationID: "corr-e1", CausationID: "cmd-e1"},
		Definition: domain.ResourceDefinition{ID: "id-1", Name: "build", Schema: def.Schema, Version: "1.0.0"}}}
	if diff := cmp.Diff(want, d.Changes()); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if err := d.Create(def, "id-2", cause("e2")); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("create twice: %v, want ErrConflict", err)
	}
	def.Version = "2.0.0"
	if err := d.Update(def, cause("e3")); err != nil {
		t.Fatal(err)
	}
	if d.State().ID != "id-1" || d.Version() != 2 || d.State().Version != "2.0.0" {
		t.Errorf("after update: %+v at %d", d.State(), d.Version())
	}
	if err := d.Delete("build", cause("e4")); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete("build", cause("e5")); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if err := d.Update(def, cause("e6")); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("update after delete: %v", err)
	}
	if err := d.Create(def, "id-3", cause("e7")); err != nil || d.Version() != 4 {
		t.Errorf("create again: %v at version %d, want version 4", err, d.Version())
	}
	rebuilt := &domain.Definition{}
	for _, e := range d.Changes() {
		rebuilt.Apply(e)
	}
	if diff := cmp.Diff(d.State(), rebuilt.State()); diff != "" || rebuilt.Version() != d.Version() || !rebuilt.Exists() {
		t.Errorf("rebuilt from its events differs (-recorded +rebuilt):\n%s", diff)
	}
	var bad domain.Definition
	err := bad.Create(domain.ResourceDefinition{Name: "Bad"}, "x", cause("e8"))
	problems, _ := domain.AsValidation(err)
	if len(problems) != 2 || problems[0].Field != "name" || problems[1].Field != "schema" {
		t.Errorf("bad name and no schema: %v", err)
	}
}

func TestResourceVersionsAndMetadata(t *testing.T) {
	res := domain.Resource{Name: "app-1", Type: "build", Spec: []byte(`{"ref":"a"}`),
		Metadata: map[string]string{"team": "web", "version": "9", "driverresults.x": "forged"}}
	var r domain.ResourceAggregate
	if err := r.Create(res, "rid", cause("e1")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"team": "web", "version": "1"}, r.State().Metadata); diff != "" {
		t.Errorf("created metadata (-want +got):\n%s", diff)
	}
	if e := r.Changes()[0].(*domain.ResourceCreated); e.Aggregate != "resource" || e.AggregateID != "build/app-1" || e.CorrelationID != "corr-e1" {
		t.Errorf("event meta %+v", e.Meta)
	}
	res.Spec = []byte(`{"ref":"b"}`)
	res.Metadata = map[string]string{"owner": "me"}
	if err := r.Replace(res, 2, cause("e2")); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("stale expected version: %v", err)
	}
	if err := r.Replace(res, 1, cause("e3")); err != nil {
		t.Fatal(err)
	}
	if err := r.Replace(res, 0, cause("e4")); err != nil {
		t.Fatal(err)
	}
	st := r.State()
	if st.ID != "rid" || st.Version() != 3 || st.Metadata["owner"] != "me" || st.Metadata["team"] != "" {
		t.Errorf("after replaces: %+v", st)
	}
	if err := r.Delete("build", "app-1", cause("e5")); err != nil {
		t.Fatal(err)
	}
	if err := r.Replace(res, 0, cause("e6")); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("replace after delete: %v", err)
	}
	if err := r.Create(res, "rid-2", cause("e7")); err != nil {
		t.Fatal(err)
	}
	if r.State().Version() != 1 || r.Version() != 5 {
		t.Errorf("re-created: resource version %d (want 1), aggregate version %d (want 5)", r.State().Version(), r.Version())
	}
	for _, spec := range []string{`[1]`, `"x"`, ``, `null`} {
		var a domain.ResourceAggregate
		err := a.Create(domain.Resource{Name: "a", Type: "build", Spec: []byte(spec)}, "id", cause("x"))
		if p, ok := domain.AsValidation(err); !ok || p[0].Field != "spec" {
			t.Errorf("spec %q: %v", spec, err)
		}
	}
	var a domain.ResourceAggregate
	err := a.Create(domain.Resource{Name: "A", Type: "b.c", Pipeline: "P", Spec: []byte(`{}`)}, "id", cause("x"))
	if p, _ := domain.AsValidation(err); len(p) != 3 {
		t.Errorf("three bad names reported as %v", err)
	}
}

func TestPipelineChecks(t *testing.T) {
	cases := []struct {
		steps []domain.Step
		field string
		rule  string
	}{
		{nil, "steps", "at least one step"},
		{[]domain.Step{{ID: "a", Driver: "d"}, {ID: "a", Driver: "e"}}, "steps[1].id", "duplicates steps[0].id"},
		{[]domain.Step{{ID: "a", Driver: "My.Driver"}}, "steps[0].driver", "lower-case"},
		{[]domain.Step{{ID: "", Driver: "d"}}, "steps[0].id", "required"},
	}
	for _, tc := range cases {
		err := domain.CheckPipeline(domain.Pipeline{Name: "ci", Resource: "build", Steps: tc.steps})
		p, ok := domain.AsValidation(err)
		if !ok || p[0].Field != tc.field || !strings.Contains(p[0].Rule, tc.rule) {
			t.Errorf("steps %v: %v, want %s: %s", tc.steps, err, tc.field, tc.rule)
		}
	}
	var a domain.PipelineAggregate
	p := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "a", Driver: "d"}}}
	if err := a.Create(p, cause("e1")); err != nil || a.State().Version != "1" {
		t.Fatalf("create: %v %+v", err, a.State())
	}
	if err := a.Update(p, cause("same")); err != nil || a.State().Version != "1" || len(a.Changes()) != 1 {
		t.Fatalf("an update that changes nothing: %v %+v, %d events", err, a.State(), len(a.Changes()))
	}
	p.Description = "now described"
	if err := a.Update(p, cause("e2")); err != nil || a.State().Version != "2" {
		t.Fatalf("update: %v %+v", err, a.State())
	}
}

// run builds a started run of a two-step pipeline whose second step uses the
// same driver as the first.
func run(t *testing.T) *domain.RunAggregate {
	t.Helper()
	var r domain.RunAggregate
	p := domain.Pipeline{Name: "ci", Resource: "build", Metadata: map[string]string{"region": "eu"},
		Steps: []domain.Step{{ID: "one", Driver: "d"}, {ID: "two", Driver: "d"}}}
	res := domain.Resource{ID: "rid", Name: "app", Type: "build", Spec: []byte(`{}`), Metadata: map[string]string{"version": "1"}}
	if err := r.Start("6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a11", "create", p, res, 1, cause("start")); err != nil {
		t.Fatal(err)
	}
	return &r
}

func types(events []domain.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.EventMeta().Type)
	}
	return out
}

func TestRunSucceedsStepByStep(t *testing.T) {
	r := run(t)
	r.Advance(cause("a1"))
	if err := r.RecordResult("", domain.DriverResult{Success: true, Message: "first", Driver: "d"}, cause("r1")); err != nil {
		t.Fatal(err)
	}
	r.Advance(cause("a2"))
	payload := r.State().Payload("two")
	var first domain.DriverResult
	if err := json.Unmarshal([]byte(payload.Metadata["driverresults.d"]), &first); err != nil || first.Message != "first" || payload.Metadata["region"] != "eu" {
		t.Errorf("payload of step two: %v", payload.Metadata)
	}
	if _, early := r.State().Payload("one").Metadata["driverresults.d"]; early {
		t.Error("step one's payload carries its own result")
	}
	if err := r.RecordResult("two", domain.DriverResult{Success: true, Driver: "d"}, cause("r2")); err != nil {
		t.Fatal(err)
	}
	r.Advance(cause("a3"))
	r.Advance(cause("a4")) // nothing left to decide
	want := []string{"RunStarted.v1", "StepDispatched.v1", "DriverResultRecorded.v1", "StepDispatched.v1",
		"DriverResultRecorded.v1", "RunSucceeded.v1"}
	if diff := cmp.Diff(want, types(r.Changes())); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	dispatched := r.Changes()[3].(*domain.StepDispatched)
	if dispatched.Step != "two" || dispatched.Event != "process" || dispatched.Attempt != 1 || dispatched.CorrelationID != "corr-a2" {
		t.Errorf("second dispatch %+v", dispatched)
	}
	if first := r.Changes()[1].(*domain.StepDispatched); first.Event != "create" {
		t.Errorf("first step's event %q, want the trigger create", first.Event)
	}
	if r.State().Status != domain.RunStatusSucceeded || !r.State().Ended() {
		t.Errorf("status %s", r.State().Status)
	}
	if err := r.RecordResult("two", domain.DriverResult{Success: true, Driver: "d"}, cause("late")); err != nil {
		t.Fatal(err)
	}
	if late := r.Changes()[len(r.Changes())-1].(*domain.DriverResultRecorded); !strings.Contains(late.Ignored, "ended") {
		t.Errorf("late result not ignored: %+v", late)
	}
}

func TestRunFailsRetriesAndCancels(t *testing.T) {
	r := run(t)
	r.Advance(cause("a1"))
	if err := r.RecordResult("one", domain.DriverResult{Success: true, Driver: "other"}, cause("wrong-driver")); err != nil {
		t.Fatal(err)
	}
	if err := r.RecordResult("one", domain.DriverResult{Success: false, Message: "boom", Driver: "d"}, cause("r1")); err != nil {
		t.Fatal(err)
	}
	r.Advance(cause("a2"))
	if s := r.State(); s.Status != domain.RunStatusFailed || !strings.Contains(s.Message, "boom") ||
		s.Steps[1].Status != domain.StepStatusSkipped || s.Steps[1].Reason != "needs step one, which failed" {
		t.Fatalf("after failure: %+v", s)
	}
	if err := r.Cancel("", cause("c0")); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("cancel of a failed run: %v", err)
	}
	if err := r.Retry(cause("retry")); err != nil {
		t.Fatal(err)
	}
	r.Advance(cause("a3"))
	if s := r.State().Steps[0]; s.Status != domain.StepStatusDispatched || s.Attempt != 2 {
		t.Errorf("retried step %+v", s)
	}
	if err := r.Retry(cause("retry2")); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("retry of a running run: %v", err)
	}
	if err := r.Cancel("stop", cause("c1")); err != nil {
		t.Fatal(err)
	}
	r.Advance(cause("a4"))
	want := []string{"RunStarted.v1", "StepDispatched.v1", "DriverResultRecorded.v1", "DriverResultRecorded.v1", "RunFailed.v1",
		"RunRetried.v1", "StepDispatched.v1", "RunCancelled.v1"}
	if diff := cmp.Diff(want, types(r.Changes())); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if ignored := r.Changes()[2].(*domain.DriverResultRecorded); !strings.Contains(ignored.Ignored, "runs driver d, not other") {
		t.Errorf("wrong driver's result: %+v", ignored)
	}
	rebuilt := sameWhenRebuilt(t, r)
	if s := rebuilt.State(); s.Status != domain.RunStatusCancelled || s.Steps[0].Status != domain.StepStatusSkipped {
		t.Errorf("cancelled run %+v", s)
	}
}

func TestEventsRoundTrip(t *testing.T) {
	r := run(t)
	r.Advance(cause("a"))
	_ = r.RecordResult("", domain.DriverResult{Success: true, Data: json.RawMessage(`{"k":1}`), Driver: "d"}, cause("b"))
	var res domain.ResourceAggregate
	_ = res.Create(domain.Resource{Name: "a", Type: "b", Spec: []byte(`{}`)}, "id", cause("c"))
	_ = res.Delete("b", "a", cause("d"))
	for _, e := range append(r.Changes(), res.Changes()...) {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := domain.DecodeEvent(data)
		if err != nil {
			t.Fatalf("decode %s: %v", e.EventMeta().Type, err)
		}
		if diff := cmp.Diff(e, back); diff != "" {
			t.Errorf("%s round trip (-sent +decoded):\n%s", e.EventMeta().Type, diff)
		}
	}
	for _, typ := range domain.EventTypes() {
		e, err := domain.NewEvent(typ)
		if err != nil || e.EventMeta() == nil || !strings.HasSuffix(typ, ".v1") {
			t.Errorf("event type %s: %v", typ, err)
		}
	}
	if _, err := domain.DecodeEvent([]byte(`{"type":"Nope.v1"}`)); err == nil {
		t.Error("unknown type decoded")
	}
	if _, err := domain.DecodeEvent([]byte(`{`)); err == nil {
		t.Error("bad JSON decoded")
	}
	// The type is read from the envelope's front when it is where this
	// package puts it, and by a full decode when it is not.
	for _, data := range []string{
		`{"id":"e1","type":"ResourceDeleted.v1","aggregateId":"b/a"}`,
		`{"type":"ResourceDeleted.v1","id":"e1","aggregateId":"b/a"}`,
		`{"id":"e\"1","type":"ResourceDeleted.v1","aggregateId":"b/a"}`,
		`{"id":"e1","type":"ResourceDeleted\u002ev1","aggregateId":"b/a"}`,
	} {
		e, err := domain.DecodeEvent([]byte(data))
		if err != nil {
			t.Errorf("%s: %v", data, err)
			continue
		}
		if m := e.EventMeta(); m.Type != domain.TypeResourceDeleted || m.AggregateID != "b/a" {
			t.Errorf("%s decoded as %+v", data, m)
		}
	}
	if _, err := domain.DecodeEvent([]byte(`{"id":"e1","type":"ResourceDeleted.v1","aggregateId":3}`)); err == nil {
		t.Error("an event with a wrong field type decoded")
	}
	wrapped := fmt.Errorf("ctx: %w", domain.Invalid("f", "r"))
	if p, ok := domain.AsValidation(wrapped); !ok || p[0].Field != "f" {
		t.Errorf("AsValidation through %%w: %v", p)
	}
}

// FuzzCheckName: every name accepted is a single NATS subject token and etcd
// key segment, and every name refused gets the rule as its reason.
func FuzzCheckName(f *testing.F) {
	for _, seed := range []string{"build", "a", "", "A", "a.b", "a*", "a>", "a b", strings.Repeat("x", 64), "-a", "é"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := domain.CheckName("name", name)
		if err == nil {
			if strings.ContainsAny(name, ".*> /\t\n") || len(name) == 0 || len(name) > 63 {
				t.Fatalf("%q accepted", name)
			}
			return
		}
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Rule, domain.NameRule) {
			t.Fatalf("%q refused with %v", name, err)
		}
	})
}

// TestCheckSender: a result is accepted only from the driver the step it
// claims was dispatched to, and only in that driver's own name.
func TestCheckSender(t *testing.T) {
	r := run(t)
	r.Advance(cause("a1"))
	for _, c := range []struct {
		name, step, driver, sender string
		want                       error
	}{
		{"its own step", "one", "d", "d", nil},
		{"the current step, unnamed", "", "", "d", nil},
		{"another driver's step", "one", "", "x", domain.ErrForeignResult},
		{"in another driver's name", "one", "d", "x", domain.ErrForeignResult},
		{"a step the run lacks", "nope", "", "d", domain.ErrForeignResult},
	} {
		err := r.CheckSender(c.step, domain.DriverResult{Success: true, Driver: c.driver}, c.sender)
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	var missing domain.RunAggregate
	if err := missing.CheckSender("one", domain.DriverResult{}, "d"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("a run that does not exist: %v", err)
	}
}

// Apply changes a clone of a run, never the run it was cloned from, for
// every kind of run event and every state a step can be in when it comes:
// the projector keeps runs decoded and applies the next event to a clone.
func TestApplyLeavesTheClonedRunAlone(t *testing.T) {
	at := time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC)
	meta := func(typ string) domain.Meta { return domain.Meta{Type: typ, Time: at} }
	result := domain.DriverResult{Success: false, Message: "no", Data: json.RawMessage(`{"k":1}`), Driver: "d"}
	events := []domain.Event{
		&domain.StepDispatched{Meta: meta(domain.TypeStepDispatched), Step: "one", Driver: "d", Attempt: 1},
		&domain.DriverResultRecorded{Meta: meta(domain.TypeDriverResultRecorded), Step: "one", Result: result},
		&domain.StepRetryScheduled{Meta: meta(domain.TypeStepRetryScheduled), Step: "one", Attempt: 1, At: at.Add(time.Minute)},
		&domain.StepDispatched{Meta: meta(domain.TypeStepDispatched), Step: "one", Driver: "d", Attempt: 2},
		&domain.StepTimedOut{Meta: meta(domain.TypeStepTimedOut), Step: "one", Attempt: 2, Reason: "late"},
		&domain.ApprovalRequested{Meta: meta(domain.TypeApprovalRequested), Step: "two"},
		&domain.StepApproved{Meta: meta(domain.TypeStepApproved), Step: "two", By: "ann"},
		&domain.StepRejected{Meta: meta(domain.TypeStepRejected), Step: "two", By: "bob"},
		&domain.StepSkipped{Meta: meta(domain.TypeStepSkipped), Step: "two", Reason: "when"},
		&domain.ConditionFailed{Meta: meta(domain.TypeConditionFailed), Step: "one", Reason: "bad"},
		&domain.RunFailed{Meta: meta(domain.TypeRunFailed), Step: "one", Message: "failed"},
		&domain.RunRetried{Meta: meta(domain.TypeRunRetried), Step: "one", Attempt: 3},
		&domain.DriverResultRecorded{Meta: meta(domain.TypeDriverResultRecorded), Step: "two", Result: domain.DriverResult{Success: true, Driver: "d"}},
		&domain.RunCancelled{Meta: meta(domain.TypeRunCancelled), Reason: "stop"},
		&domain.RunSucceeded{Meta: meta(domain.TypeRunSucceeded)},
	}
	cur := run(t)
	for _, e := range events {
		before, err := json.Marshal(cur.State())
		if err != nil {
			t.Fatal(err)
		}
		next := domain.RestoreRun(cur.State().Clone(), cur.Version())
		next.Apply(e)
		after, _ := json.Marshal(cur.State())
		if string(before) != string(after) {
			t.Fatalf("%s applied to a clone changed the original:\nbefore %s\nafter  %s", e.EventMeta().Type, before, after)
		}
		changed, _ := json.Marshal(next.State())
		if string(changed) == string(before) {
			t.Errorf("%s changed nothing: the test does not exercise it", e.EventMeta().Type)
		}
		cur = next
	}
}
