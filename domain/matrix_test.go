package domain_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

// matrix reads a step's matrix from JSON.
func matrix(t *testing.T, s string) domain.Matrix {
	t.Helper()
	var m domain.Matrix
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func ids(steps []domain.Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.ID)
	}
	return out
}

func TestMatrixExpandsIntoInstances(t *testing.T) {
	p := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{
		{ID: "checkout", Driver: "git"},
		{ID: "test", Driver: "go-test", Matrix: matrix(t, `{"os": ["linux", "darwin"], "go": ["1.25", 1.26],
			"exclude": [{"os": "darwin", "go": "1.25"}], "include": [{"go": "1.27", "os": "linux", "race": true}]}`)},
		{ID: "publish", Driver: "uploader"},
	}}
	if err := domain.CheckPipeline(p); err != nil {
		t.Fatal(err)
	}
	x := p.Expanded()
	instances := []string{"test[go=1.25,os=linux]", "test[go=1.26,os=linux]", "test[go=1.26,os=darwin]", "test[go=1.27,os=linux,race=true]"}
	if diff := cmp.Diff(append(append([]string{"checkout"}, instances...), "publish"), ids(x.Steps)); diff != "" {
		t.Fatalf("expanded ids (-want +got):\n%s", diff)
	}
	for _, s := range x.Steps[1:5] {
		if !slices.Equal(s.Needs, []string{"checkout"}) || s.Instance == nil || s.Instance.Group != "test" || s.Matrix != nil {
			t.Errorf("instance %s: needs %v, instance %+v, matrix %v; want the group's needs, its group, no matrix", s.ID, s.Needs, s.Instance, s.Matrix)
		}
	}
	if got := x.Steps[3].Instance.Values; string(got["go"]) != "1.26" || string(got["os"]) != `"darwin"` {
		t.Errorf("values of %s: %s", x.Steps[3].ID, got)
	}
	if diff := cmp.Diff(instances, x.Steps[5].Needs); diff != "" {
		t.Errorf("publish needs (-want +got), the step before it being the matrix:\n%s", diff)
	}
	if x.Steps[0].Needs == nil || len(x.Steps[0].Needs) != 0 {
		t.Errorf("checkout needs %#v, want an explicit none", x.Steps[0].Needs)
	}
	if p.Steps[1].Matrix == nil || len(p.Steps) != 3 {
		t.Error("Expanded changed the pipeline it expands")
	}
	plain := domain.Pipeline{Name: "ci", Resource: "build", Steps: diamond()}
	if diff := cmp.Diff(plain, plain.Expanded()); diff != "" {
		t.Errorf("a pipeline without a matrix changed (-want +got):\n%s", diff)
	}
}

func TestInstanceIDs(t *testing.T) {
	for _, c := range []struct {
		values map[string]string
		want   string
	}{
		{map[string]string{"os": `"linux"`, "go": `1.26`}, "test[go=1.26,os=linux]"},
		{map[string]string{"os": `"ubuntu 24.04"`}, "test[os=ubuntu%2024.04]"},
		{map[string]string{"v": `"a,b=c]"`, "on": `false`}, "test[on=false,v=a%2Cb%3Dc%5D]"},
		{map[string]string{"v": `"ü"`}, "test[v=%C3%BC]"},
	} {
		values := map[string]json.RawMessage{}
		for k, v := range c.values {
			values[k] = json.RawMessage(v)
		}
		if got := domain.InstanceID("test", values); got != c.want {
			t.Errorf("InstanceID(%v) = %s, want %s", c.values, got, c.want)
		}
	}
}

// numbers is a JSON list of n numbers.
func numbers(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, i)
	}
	return "[" + b.String() + "]"
}

func TestMatrixIsChecked(t *testing.T) {
	no := false
	for _, c := range []struct {
		name  string
		step  domain.Step
		field string
		says  string
	}{
		{"an empty list", domain.Step{Matrix: matrix(t, `{"go": []}`)}, "steps[0].matrix.go", "at least one value"},
		{"a list value", domain.Step{Matrix: matrix(t, `{"go": ["1", ["2"]]}`)}, "steps[0].matrix.go[1]", "a string, a number, true or false"},
		{"an object value", domain.Step{Matrix: matrix(t, `{"go": [{"v": 1}]}`)}, "steps[0].matrix.go[0]", "a string, a number"},
		{"null", domain.Step{Matrix: matrix(t, `{"go": [null]}`)}, "steps[0].matrix.go[0]", "a string, a number"},
		{"not a list", domain.Step{Matrix: matrix(t, `{"go": "1.26"}`)}, "steps[0].matrix.go", "must be a list"},
		{"a value twice", domain.Step{Matrix: matrix(t, `{"go": ["1", "1"]}`)}, "steps[0].matrix.go[1]", "repeats go[0]"},
		{"a key CEL cannot name", domain.Step{Matrix: matrix(t, `{"go-version": ["1"]}`)}, "steps[0].matrix.go-version", "not a matrix key"},
		{"nothing", domain.Step{Matrix: matrix(t, `{}`)}, "steps[0].matrix", "at least one key"},
		{"an exclude of a key the matrix lacks", domain.Step{Matrix: matrix(t, `{"go": ["1"], "os": ["linux"], "exclude": [{"arch": "arm"}]}`)},
			"steps[0].matrix.exclude[0]", "names key arch, which the matrix has no list for"},
		{"an exclude that matches nothing", domain.Step{Matrix: matrix(t, `{"go": ["1", "2"], "exclude": [{"go": "3"}]}`)},
			"steps[0].matrix.exclude[0]", "matches no combination"},
		{"everything excluded", domain.Step{Matrix: matrix(t, `{"go": ["1"], "exclude": [{"go": "1"}]}`)}, "steps[0].matrix", "excludes every combination"},
		{"an include that repeats", domain.Step{Matrix: matrix(t, `{"go": ["1"], "include": [{"go": "1"}]}`)},
			"steps[0].matrix.include[0]", "repeats the combination [go=1]"},
		{"an empty include", domain.Step{Matrix: matrix(t, `{"go": ["1"], "include": [{}]}`)}, "steps[0].matrix.include[0]", "at least one key"},
		{"257 combinations", domain.Step{Matrix: matrix(t, `{"a": `+numbers(257)+`}`)}, "steps[0].matrix", "has 257 combinations; at most 256"},
		{"16 × 17 combinations", domain.Step{Matrix: matrix(t, `{"a": `+numbers(16)+`, "b": `+numbers(17)+`}`)}, "steps[0].matrix", "has 272 combinations"},
		{"a product far too large", domain.Step{Matrix: matrix(t, `{"a": `+numbers(300)+`, "b": `+numbers(300)+`}`)}, "steps[0].matrix", "at most 256 are accepted"},
		{"an id too long", domain.Step{Matrix: matrix(t, `{"a": ["`+strings.Repeat("x", 300)+`"]}`)}, "steps[0].matrix", "at most 255"},
		{"failFast without a matrix", domain.Step{FailFast: &no}, "steps[0].failFast", "only a step with a matrix"},
		{"maxParallel without a matrix", domain.Step{MaxParallel: 2}, "steps[0].maxParallel", "only a step with a matrix"},
		{"maxParallel below 0", domain.Step{MaxParallel: -1, Matrix: matrix(t, `{"go": ["1"]}`)}, "steps[0].maxParallel", "0 (no bound) or more"},
		{"an approval", domain.Step{Type: domain.StepTypeApproval, Matrix: matrix(t, `{"go": ["1"]}`)}, "steps[0].matrix", "decided once"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.step
			s.ID = "test"
			if s.Type == "" {
				s.Driver = "go-test"
			}
			err := domain.CheckPipeline(domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{s}})
			if err == nil || !strings.Contains(err.Error(), c.field+": ") || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want a problem at %s saying %q", err, c.field, c.says)
			}
		})
	}
	ok := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "t", Driver: "d", Matrix: matrix(t, `{"a": `+numbers(16)+`, "b": `+numbers(16)+`}`)}}}
	if err := domain.CheckPipeline(ok); err != nil {
		t.Errorf("256 combinations: %v", err)
	}
	// An exclude that matches what an earlier one dropped is redundant, not
	// a mistake: it names values the matrix has.
	overlap := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "t", Driver: "d",
		Matrix: matrix(t, `{"a": [1, 2], "b": [1, 2], "exclude": [{"a": 1}, {"a": 1, "b": 2}]}`)}}}
	if err := domain.CheckPipeline(overlap); err != nil {
		t.Errorf("overlapping excludes: %v", err)
	}
}

// matrixRun starts a run of checkout → test (a 3 × 2 matrix) → publish,
// test's parameters naming its values.
func matrixRun(t *testing.T, failFast *bool, maxParallel int) *domain.RunAggregate {
	t.Helper()
	return withRun(t, `{}`,
		domain.Step{ID: "test", Driver: "go-test", Needs: []string{}, Matrix: matrix(t, `{"go": ["1.24", "1.25", "1.26"], "os": ["linux", "darwin"]}`),
			FailFast: failFast, MaxParallel: maxParallel, With: json.RawMessage(`{"version": "${{ matrix.go }}", "os": "${{ matrix.os }}"}`)},
		domain.Step{ID: "publish", Driver: "uploader"},
	)
}

func stepStatuses(r domain.Run) map[string]string {
	out := map[string]string{}
	for _, s := range r.Steps {
		out[s.ID] = s.Status
	}
	return out
}

func TestMatrixInstancesRunWithTheirValues(t *testing.T) {
	r := matrixRun(t, nil, 0)
	got := advance(r, "x1")
	if len(got) != 6 || !slices.Contains(got, "test[go=1.25,os=darwin]") {
		t.Fatalf("dispatched %v, want the 6 instances at once", got)
	}
	for _, e := range r.Changes() {
		if d, ok := e.(*domain.StepDispatched); ok && d.Step == "test[go=1.25,os=darwin]" {
			if string(d.With) != `{"os":"darwin","version":"1.25"}` {
				t.Errorf("with of %s: %s", d.Step, d.With)
			}
		}
	}
	st := r.State().Steps[1]
	if st.Matrix == nil || st.Matrix.Group != "test" || string(st.Matrix.Values["go"]) != `"1.24"` {
		t.Errorf("the run's step %s names its matrix as %+v", st.ID, st.Matrix)
	}
	for i, s := range r.State().Steps[:6] {
		succeed(t, r, s.ID, "go-test")
		if i < 5 && r.State().MatrixStatus("test") != domain.StepStatusDispatched {
			t.Fatalf("group status %s with instances left", r.State().MatrixStatus("test"))
		}
		if got := advance(r, fmt.Sprintf("x%d", i+2)); i < 5 && len(got) > 0 || i == 5 && !slices.Equal(got, []string{"publish"}) {
			t.Fatalf("after %d instances: dispatched %v", i+1, got)
		}
	}
	if s := r.State().MatrixStatus("test"); s != domain.StepStatusSucceeded {
		t.Errorf("group status %s, want succeeded", s)
	}
}

func TestMatrixFailFast(t *testing.T) {
	no := false
	for _, c := range []struct {
		name     string
		failFast *bool
		// skipped is how many instances never run after the first fails.
		skipped int
	}{{"on by default", nil, 4}, {"off", &no, 0}} {
		t.Run(c.name, func(t *testing.T) {
			r := matrixRun(t, c.failFast, 2) // two at a time: four wait when the first fails
			if got := advance(r, "x1"); len(got) != 2 {
				t.Fatalf("dispatched %v, want 2 (maxParallel)", got)
			}
			first := r.State().Steps[0].ID
			if err := r.RecordResult(first, domain.DriverResult{Success: false, Message: "tests failed", Driver: "go-test"}, cause("r1")); err != nil {
				t.Fatal(err)
			}
			got := advance(r, "x2")
			statuses := stepStatuses(r.State())
			if statuses["publish"] != domain.StepStatusSkipped {
				t.Errorf("publish is %s, want skipped: it needs every instance", statuses["publish"])
			}
			skipped := 0
			for _, s := range r.State().Steps[:6] {
				if s.Status == domain.StepStatusSkipped {
					skipped++
					if !strings.Contains(s.Reason, "instance "+first+" of matrix step test failed") {
						t.Errorf("%s skipped for %q", s.ID, s.Reason)
					}
				}
			}
			if skipped != c.skipped {
				t.Fatalf("%d instances skipped, want %d: %v", skipped, c.skipped, statuses)
			}
			if c.skipped == 0 && len(got) != 1 {
				t.Errorf("without failFast the next instance runs: dispatched %v", got)
			}
			if c.skipped > 0 && len(got) != 0 {
				t.Errorf("with failFast nothing more starts: dispatched %v", got)
			}
			// The instances still running finish; then the run fails.
			for n := 0; r.State().Status == domain.RunStatusRunning && n < 10; n++ {
				for _, s := range r.State().InFlight() {
					succeed(t, r, s.ID, "go-test")
				}
				advance(r, fmt.Sprintf("y%d", n))
			}
			if r.State().Status != domain.RunStatusFailed || r.State().MatrixStatus("test") != domain.StepStatusFailed {
				t.Errorf("run %s, group %s; want both failed", r.State().Status, r.State().MatrixStatus("test"))
			}
		})
	}
}

func TestMatrixRunRoundTrips(t *testing.T) {
	r := matrixRun(t, nil, 0)
	advance(r, "x1")
	var replay domain.RunAggregate
	for _, e := range r.Changes() {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := domain.DecodeEvent(data)
		if err != nil {
			t.Fatal(err)
		}
		replay.Apply(back)
	}
	want, _ := json.Marshal(r.State())
	got, _ := json.Marshal(replay.State())
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("the run folded from its events differs (-want +got):\n%s", diff)
	}
	if started := r.Changes()[0].(*domain.RunStarted); started.Pipeline.Steps[0].Matrix == nil || len(started.Pipeline.Steps) != 2 {
		t.Errorf("RunStarted holds %v, want the pipeline as written", ids(started.Pipeline.Steps))
	}
}

func TestValidStepID(t *testing.T) {
	for id, want := range map[string]bool{
		"test":                              true,
		"test[go=1.26,os=linux]":            true,
		"test[os=ubuntu%2024.04,race=true]": true,
		"test[n=-1.5e+3]":                   true,
		"test[v=]":                          true,
		"test[]":                            false,
		"test[go=1.26":                      false,
		"test[go=1.26]x":                    false,
		"test[Go=1]":                        false,
		"test[go=a b]":                      false,
		"test[go=a]]":                       false,
		"Test[go=1]":                        false,
		"test[go=" + strings.Repeat("x", 260) + "]": false,
	} {
		if got := domain.ValidStepID(id); got != want {
			t.Errorf("ValidStepID(%q) = %v, want %v", id, got, want)
		}
	}
	// Every id InstanceID gives is valid.
	p := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "t", Driver: "d",
		Matrix: matrix(t, `{"s": ["a b", "x,y=z]", "%", "ü", ""], "n": [-1.5e3, 0, true]}`)}}}
	if err := domain.CheckPipeline(p); err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Expanded().Steps {
		if !domain.ValidStepID(s.ID) {
			t.Errorf("instance id %q is not a valid step id", s.ID)
		}
	}
}

// A retry of a run whose instance failed runs the failed instance and the
// ones failFast skipped again, each still naming its matrix; the instance
// that succeeded keeps its result.
func TestMatrixRetryRunsTheSkippedInstances(t *testing.T) {
	r := matrixRun(t, nil, 2)
	advance(r, "x1")
	failed, ran := r.State().Steps[0].ID, r.State().Steps[1].ID
	if err := r.RecordResult(failed, domain.DriverResult{Success: false, Driver: "go-test"}, cause("r1")); err != nil {
		t.Fatal(err)
	}
	succeed(t, r, ran, "go-test")
	advance(r, "x2")
	if r.State().Status != domain.RunStatusFailed {
		t.Fatalf("run %s, want failed", r.State().Status)
	}
	if err := r.Retry(cause("retry")); err != nil {
		t.Fatal(err)
	}
	got := advance(r, "x3")
	if len(got) != 2 || got[0] != failed {
		t.Errorf("after the retry: dispatched %v, want %s and the next instance (maxParallel 2)", got, failed)
	}
	for _, s := range r.State().Steps[:6] {
		if s.Matrix == nil || s.Matrix.Group != "test" {
			t.Errorf("%s lost its matrix: %+v", s.ID, s.Matrix)
		}
		if s.ID == ran && s.Status != domain.StepStatusSucceeded {
			t.Errorf("%s, which succeeded, is %s", s.ID, s.Status)
		}
	}
	if s := r.State().Steps[0]; s.Attempt != 2 {
		t.Errorf("%s is at attempt %d, want 2", s.ID, s.Attempt)
	}
}
