package domain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/domain"
)

// paths is a stand-in for CEL: an expression is a dotted path into the
// input ("resource.spec.image"); one holding "!!" does not compile.
type paths struct{}

func (paths) Check(expr string) error { return paths{}.CheckValue(expr) }
func (paths) Eval(expr string, in domain.ConditionInput) (bool, error) {
	return false, errors.New("not used")
}

func (paths) CheckValue(expr string) error {
	if strings.Contains(expr, "!!") {
		return errors.New("Syntax error: unexpected !!")
	}
	return nil
}

func (paths) Value(expr string, in domain.ConditionInput) (json.RawMessage, error) {
	var v any = map[string]any(in)
	for _, key := range strings.Split(expr, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("no such key: %s", key)
		}
		if v, ok = m[key]; !ok {
			return nil, fmt.Errorf("no such key: %s", key)
		}
	}
	// Spaced out, as protojson may: the domain compacts it.
	return json.MarshalIndent(v, "", "  ")
}

func withRun(t *testing.T, spec string, steps ...domain.Step) *domain.RunAggregate {
	t.Helper()
	var r domain.RunAggregate
	p := domain.Pipeline{Name: "ci", Resource: "build", Steps: steps}
	if err := domain.CheckPipeline(p); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	if problems := domain.CheckConditions(p, paths{}); len(problems) > 0 {
		t.Fatalf("pipeline: %v", problems)
	}
	res := domain.Resource{ID: "rid", Name: "app", Type: "build", Spec: []byte(spec), Metadata: map[string]string{"version": "1"}}
	if err := r.Start("0b7e8f7c-3c1e-4a5e-9f40-6c1f1b2f4d10", "create", p, res, 1, cause("start")); err != nil {
		t.Fatal(err)
	}
	r.UseConditions(paths{})
	return &r
}

func TestWithIsEvaluatedAtDispatch(t *testing.T) {
	r := withRun(t, `{"image": "app", "n": 3, "tags": ["a", "b"]}`,
		domain.Step{ID: "build", Driver: "builder"},
		domain.Step{ID: "push", Driver: "pusher", With: json.RawMessage(`{
			"image": "${{ resource.spec.image }}",
			"n": "${{ resource.spec.n }}",
			"tags": "${{ resource.spec.tags }}",
			"ref": "registry.example/${{ resource.spec.image }}:v${{ resource.spec.n }} (${{ results.build.data.digest }}) ${{ resource.spec.tags }}",
			"literal": 1.50,
			"big": 9007199254740993,
			"nested": {"list": ["${{ run.trigger }}", true, null]},
			"text": "no expression here"}`)})
	r.Advance(cause("advance"))
	if d, ok := lastEvent(r).(*domain.StepDispatched); !ok || d.Step != "build" || d.With != nil {
		t.Fatalf("first dispatch %#v, want build without parameters", lastEvent(r))
	}
	if err := r.RecordResult("build", domain.DriverResult{Success: true, Driver: "builder", Data: json.RawMessage(`{"digest": "sha256:1"}`)}, cause("built")); err != nil {
		t.Fatal(err)
	}
	r.Advance(cause("advance-2"))
	d, ok := lastEvent(r).(*domain.StepDispatched)
	if !ok || d.Step != "push" {
		t.Fatalf("last event %#v, want push dispatched", lastEvent(r))
	}
	want := `{"big":9007199254740993,"image":"app","literal":1.50,"n":3,"nested":{"list":["create",true,null]},` +
		`"ref":"registry.example/app:v3 (sha256:1) [\"a\",\"b\"]","tags":["a","b"],"text":"no expression here"}`
	if string(d.With) != want {
		t.Errorf("dispatched with\n%s\nwant\n%s", d.With, want)
	}
	if got := r.State().Steps[1].With; string(got) != want {
		t.Errorf("the step's state holds with %s", got)
	}
}

func TestWithThatCannotBeEvaluatedFailsTheStep(t *testing.T) {
	r := withRun(t, `{"image": "app"}`,
		domain.Step{ID: "push", Driver: "pusher", Retry: &domain.RetryPolicy{Attempts: 3},
			With: json.RawMessage(`{"image": "${{ resource.spec.image }}", "ref": "x/${{ resource.spec.missing }}"}`)},
		domain.Step{ID: "deploy", Driver: "deployer"})
	r.Advance(cause("advance"))
	var failed *domain.ParametersFailed
	for _, e := range r.Changes() {
		if _, ok := e.(*domain.StepDispatched); ok {
			t.Errorf("a step was dispatched: %#v", e)
		}
		if f, ok := e.(*domain.ParametersFailed); ok {
			failed = f
		}
	}
	wantReason := "its parameter with.ref, ${{ resource.spec.missing }}, could not be evaluated: no such key: missing"
	if failed == nil || failed.Step != "push" || failed.Reason != wantReason {
		t.Fatalf("ParametersFailed %#v, want push: %s", failed, wantReason)
	}
	run := r.State()
	if run.Status != domain.RunStatusFailed || !strings.Contains(run.Message, wantReason) {
		t.Errorf("run %s %q, want failed naming the parameter", run.Status, run.Message)
	}
	if s := run.Steps[0]; s.Status != domain.StepStatusFailed || !s.ParametersFailed || s.Attempt != 0 {
		t.Errorf("push %+v, want failed, not retried", s)
	}
	if s := run.Steps[1]; s.Status != domain.StepStatusSkipped {
		t.Errorf("deploy %+v, want skipped", s)
	}
}

func TestWithTooLargeOnceEvaluatedFailsTheStep(t *testing.T) {
	big := strings.Repeat("x", domain.MaxWithBytes)
	r := withRun(t, `{"big": "`+big+`"}`, domain.Step{ID: "a", Driver: "d", With: json.RawMessage(`{"v": "${{ resource.spec.big }}"}`)})
	r.Advance(cause("advance"))
	if s := r.State().Steps[0]; s.Status != domain.StepStatusFailed || !strings.Contains(s.Result.Message, "bytes once evaluated; at most 16384") {
		t.Errorf("step %+v, want failed for its size", s)
	}
}

func TestWithIsChecked(t *testing.T) {
	for _, c := range []struct {
		with  string
		conds domain.Conditions
		want  string // "" when accepted
	}{
		{`{"a": 1, "b": ["x", {"c": "${{ resource.name }}"}]}`, paths{}, ""},
		{`{"a": "plain"}`, nil, ""},
		{`[1, 2]`, paths{}, `steps[0].with: must be a JSON object`},
		{`"text"`, paths{}, `steps[0].with: must be a JSON object`},
		{`{"a": "${{ resource.name"}`, paths{}, `steps[0].with.a: an expression opened with ${{ is not closed with }}`},
		{`{"a": "x${{  }}"}`, paths{}, `steps[0].with.a: ${{ }} holds no expression`},
		{`{"a": {"b": ["ok", "${{ resource.spec !! }}"]}}`, paths{}, `steps[0].with.a.b[1]: ${{ resource.spec !! }} is not a valid CEL expression: Syntax error: unexpected !!`},
		{`{"a": "${{ resource.name }}"}`, nil, `steps[0].with.a: expressions are not available on this server`},
		{`{"a": "` + strings.Repeat("x", domain.MaxWithBytes) + `"}`, paths{}, `steps[0].with: is 16393 bytes; at most 16384 bytes are accepted`},
	} {
		p := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "a", Driver: "d", With: json.RawMessage(c.with)}}}
		problems := domain.CheckConditions(p, c.conds)
		got := ""
		if len(problems) > 0 {
			got = problems.Error()
		}
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("with %.60s: %q, want %q", c.with, got, c.want)
		}
	}
}

func TestApprovalHasNoWith(t *testing.T) {
	p := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "gate", Type: domain.StepTypeApproval, With: json.RawMessage(`{"a": 1}`)}}}
	if err := domain.CheckPipeline(p); err == nil || !strings.Contains(err.Error(), "steps[0].with: must be absent") {
		t.Errorf("an approval with parameters: %v", err)
	}
}
