package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// labelledStep is an exec step that writes where it ran (its workspace,
// under the root of the process that took it) into its result.
func labelledStep(id string, runsOn ...string) map[string]any {
	step := map[string]any{"id": id, "driver": "exec", "needs": []string{},
		"with": map[string]any{"run": `echo "workspace=$CONVEYOR_WORKSPACE" >> "$CONVEYOR_OUTPUT"`}}
	if len(runsOn) > 0 {
		step["runsOn"] = runsOn
	}
	return step
}

// ranUnder is the workspace root of the process that ran step of run.
func ranUnder(t *testing.T, run map[string]any, step string, roots map[string]string) string {
	t.Helper()
	result, _ := runStep(run, step)["result"].(map[string]any)
	data, _ := result["data"].(map[string]any)
	workspace, _ := data["workspace"].(string)
	for name, root := range roots {
		if strings.HasPrefix(workspace, root+"/") {
			return name
		}
	}
	t.Fatalf("step %s ran in %q, under no process's root; result %v", step, workspace, result)
	return ""
}

// TestLabelledStepsRunWhereTheirLabelsAre: of two processes of the exec
// driver, one labelled linux and one linux and gpu, only the second takes
// the steps that run on gpu (or on gpu and linux); the steps on linux and
// those without runsOn run on either.
func TestLabelledStepsRunWhereTheirLabelsAre(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "work", "schema": map[string]any{"type": "object"}})
	roots := map[string]string{"linux": t.TempDir(), "gpu": t.TempDir()}
	startExecDriver(t, s, "--resources", "work", "--workspace-root", roots["linux"], "--labels", "linux", "--concurrency", "2")
	startExecDriver(t, s, "--resources", "work", "--workspace-root", roots["gpu"], "--labels", "linux,gpu", "--concurrency", "2")

	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "mixed", "resource": "work", "steps": []any{
		labelledStep("train", "gpu"), labelledStep("both", "linux", "gpu"), labelledStep("build", "linux"), labelledStep("lint")}})
	ran := map[string]map[string]int{}
	for i := range 4 {
		runID := s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": fmt.Sprintf("app-%d", i), "resource": "work",
			"pipeline": "mixed", "spec": map[string]any{}})["runid"].(string)
		run := s.waitRun(runID)
		if run["status"] != "succeeded" {
			t.Fatalf("run %v: %v", run["status"], run["steps"])
		}
		for _, step := range []string{"train", "both", "build", "lint"} {
			where := ranUnder(t, run, step, roots)
			if ran[step] == nil {
				ran[step] = map[string]int{}
			}
			ran[step][where]++
		}
	}
	for _, step := range []string{"train", "both"} {
		if ran[step]["linux"] != 0 {
			t.Errorf("step %s ran on the process without gpu: %v", step, ran[step])
		}
	}
	t.Logf("where the steps ran: %v", ran)

	drivers := s.must(http.StatusOK, "GET", "/drivers", nil)["items"].([]any)
	if len(drivers) != 1 {
		t.Fatalf("GET /drivers lists the consumers of label sets as drivers: %v", drivers)
	}
	var sets []string
	for _, in := range drivers[0].(map[string]any)["instances"].([]any) {
		sets = append(sets, fmt.Sprint(in.(map[string]any)["labels"]))
	}
	if got := strings.Join(sets, " "); !strings.Contains(got, "[linux]") || !strings.Contains(got, "[linux gpu]") {
		t.Errorf("the instances' labels: %s", got)
	}
}

// TestALabelledStepWaitsForItsLabels: a step that runs on a label no
// process has waits, dispatched, saying which labels it waits for, and runs
// once a process with them starts.
func TestALabelledStepWaitsForItsLabels(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "work", "schema": map[string]any{"type": "object"}})
	roots := map[string]string{"linux": t.TempDir(), "arm": t.TempDir()}
	startExecDriver(t, s, "--resources", "work", "--workspace-root", roots["linux"], "--labels", "linux")
	runID := execRun(s, "arm", labelledStep("cross", "linux", "arm64"))

	s.waitStep(runID, "cross", "dispatched") // once the run is read back
	var waiting string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		st := runStep(s.must(http.StatusOK, "GET", "/runs/"+runID, nil), "cross")
		if waiting, _ = st["waiting"].(string); st["status"] == "dispatched" && waiting != "" {
			break
		}
	}
	if want := `no instance of driver "exec" with labels arm64, linux is connected`; waiting != want {
		t.Fatalf("the waiting step says %q, want %q", waiting, want)
	}
	time.Sleep(time.Second) // the linux process had time to take it, were it to
	if st := runStep(s.must(http.StatusOK, "GET", "/runs/"+runID, nil), "cross"); st["status"] != "dispatched" {
		t.Fatalf("the step is %v before a process with its labels started", st["status"])
	}

	startExecDriver(t, s, "--resources", "work", "--workspace-root", roots["arm"], "--labels", "arm64,linux,big-disk")
	run := s.waitRun(runID)
	if run["status"] != "succeeded" || ranUnder(t, run, "cross", roots) != "arm" {
		t.Errorf("run %v: %v", run["status"], run["steps"])
	}
}

// TestRunsOnIsChecked: labels that break the rule of names, are over 32
// characters, repeat, are more than four, or sit on an approval step are
// refused with a 422 naming the field, and nothing is written.
func TestRunsOnIsChecked(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "work", "schema": map[string]any{"type": "object"}})
	for _, tc := range []struct {
		name   string
		step   map[string]any
		field  string
		reason string
	}{
		{"upper", map[string]any{"id": "a", "driver": "exec", "runsOn": []string{"linux", "GPU"}}, "steps[0].runsOn[1]", "lower-case"},
		{"long", map[string]any{"id": "a", "driver": "exec", "runsOn": []string{strings.Repeat("x", 33)}}, "steps[0].runsOn[0]", "1 to 32 characters"},
		{"twice", map[string]any{"id": "a", "driver": "exec", "runsOn": []string{"gpu", "gpu"}}, "steps[0].runsOn[1]", "twice"},
		{"many", map[string]any{"id": "a", "driver": "exec", "runsOn": []string{"a", "b", "c", "d", "e"}}, "steps[0].runsOn", "at most 4"},
		{"approval", map[string]any{"id": "a", "type": "approval", "runsOn": []string{"gpu"}}, "steps[0].runsOn", "must be absent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "bad-" + tc.name
			status, body := s.callRaw("POST", "/pipelines", map[string]any{"name": name, "resource": "work", "steps": []any{tc.step}})
			if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), tc.field) || !strings.Contains(string(body), tc.reason) {
				t.Errorf("status %d: %s\nwant 422 naming %s: %s", status, body, tc.field, tc.reason)
			}
			if status, _ := s.call("GET", "/pipelines/"+name, nil); status != http.StatusNotFound {
				t.Errorf("GET of the refused pipeline: %d", status)
			}
		})
	}
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "good", "resource": "work",
		"steps": []any{map[string]any{"id": "a", "driver": "exec", "runsOn": []string{"linux", "gpu"}}}})
	status, body := s.callRaw("PUT", "/pipelines/good", map[string]any{"resource": "work",
		"steps": []any{map[string]any{"id": "a", "driver": "exec", "runsOn": []string{"a", "b", "c", "d", "e"}}}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "steps[0].runsOn") {
		t.Errorf("replace with five labels: %d %s", status, body)
	}
	got := s.must(http.StatusOK, "GET", "/pipelines/good", nil)
	if step := got["steps"].([]any)[0].(map[string]any); fmt.Sprint(step["runsOn"]) != "[linux gpu]" || got["version"] != "1" {
		t.Errorf("the pipeline after a refused replace: %v", got)
	}
}
