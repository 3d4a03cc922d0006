package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/sdk"
)

// runEvents is the types and bodies of the events of a run, in log order.
func (s *testServer) runEvents(runID string) []map[string]any {
	s.t.Helper()
	var out []map[string]any
	for _, item := range s.must(http.StatusOK, "GET", "/events?aggregate=run/"+runID+"&limit=1000", nil)["items"].([]any) {
		out = append(out, item.(map[string]any))
	}
	return out
}

func eventsOfType(events []map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, e := range events {
		if e["type"] == typ {
			out = append(out, e)
		}
	}
	return out
}

func runStep(run map[string]any, id string) map[string]any {
	for _, st := range run["steps"].([]any) {
		if step := st.(map[string]any); step["id"] == id {
			return step
		}
	}
	return nil
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %v: %v", v, err)
	}
	return at
}

// TestStepRetriedWithBackoffSucceedsOnItsThirdAttempt: a driver that fails
// twice, under a policy of three attempts, succeeds on the third; each
// retry is an event, and the run succeeds.
func TestStepRetriedWithBackoffSucceedsOnItsThirdAttempt(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build", "steps": []map[string]any{
		{"id": "flaky", "driver": "flaky", "retry": map[string]any{"attempts": 3, "backoff": "200ms", "maxBackoff": "300ms"}},
		{"id": "after", "driver": "after"},
	}})
	attempts := make(chan int, 10)
	runDriver(t, s, "flaky", func(ctx context.Context, req sdk.Request) sdk.Result {
		attempts <- req.Attempt
		req.Log.Printf("trying")
		if req.Attempt < 3 {
			return sdk.Result{Success: false, Message: "network blip"}
		}
		return sdk.Result{Success: true, Message: "third time lucky"}
	})
	runDriver(t, s, "after", func(ctx context.Context, req sdk.Request) sdk.Result { return sdk.Result{Success: true} })
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	run := s.waitRun(runID)
	if run["status"] != "succeeded" {
		t.Fatalf("run %v %v: %v", run["status"], run["message"], run["steps"])
	}
	if step := runStep(run, "flaky"); step["attempt"] != float64(3) {
		t.Errorf("flaky step %v, want attempt 3", step)
	}
	close(attempts)
	var seen []int
	for a := range attempts {
		seen = append(seen, a)
	}
	if len(seen) != 3 || seen[0] != 1 || seen[2] != 3 {
		t.Errorf("the driver saw attempts %v, want 1 2 3", seen)
	}
	// Each attempt's log line says which attempt wrote it.
	var logged []any
	for _, l := range s.must(http.StatusOK, "GET", "/runs/"+runID+"/logs?step=flaky", nil)["items"].([]any) {
		logged = append(logged, l.(map[string]any)["attempt"])
	}
	if fmt.Sprint(logged) != "[1 2 3]" {
		t.Errorf("the flaky step's log lines carry attempts %v, want [1 2 3]", logged)
	}
	events := s.runEvents(runID)
	retries := eventsOfType(events, domain.TypeStepRetryScheduled)
	if len(retries) != 2 {
		t.Fatalf("%d retries scheduled, want 2", len(retries))
	}
	for _, r := range retries {
		waited := parseTime(t, r["at"]).Sub(parseTime(t, r["time"]))
		if waited < 100*time.Millisecond || waited > 300*time.Millisecond {
			t.Errorf("retry %v waits %s, want between half and all of its backoff", r, waited)
		}
	}
}

// TestStepWithSilentDriverTimesOut: a step whose driver takes the work and
// never answers ends as timed out at its timeout, and the run fails.
func TestStepWithSilentDriverTimesOut(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build", "steps": []map[string]any{
		{"id": "stuck", "driver": "stuck", "timeout": "2s"},
	}})
	runDriver(t, s, "stuck", func(ctx context.Context, req sdk.Request) sdk.Result {
		<-ctx.Done()
		return sdk.Result{Success: false, Message: "stopped"}
	})
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	run := s.waitRun(runID)
	step := runStep(run, "stuck")
	if run["status"] != "failed" || step["timedOut"] != true || !strings.Contains(run["message"].(string), "no result within the step's timeout of 2s") {
		t.Fatalf("run %v %q, step %v", run["status"], run["message"], step)
	}
	timedOut := eventsOfType(s.runEvents(runID), domain.TypeStepTimedOut)
	if len(timedOut) != 1 {
		t.Fatalf("%d StepTimedOut events, want 1", len(timedOut))
	}
	after := parseTime(t, timedOut[0]["time"]).Sub(parseTime(t, step["dispatchedAt"]))
	if after < 2*time.Second || after > 3*time.Second {
		t.Errorf("timed out %s after its dispatch, want within its 2s timeout plus a second", after)
	}
}

// TestKilledDriverIsNoticedThroughItsHeartbeats: a driver process killed
// with SIGKILL in the middle of a step, with no timeout on the step, is
// noticed through its missing heartbeats within seconds, not at the end of
// an ack wait: the attempt times out and the run fails.
func TestKilledDriverIsNoticedThroughItsHeartbeats(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "work", "schema": map[string]any{"type": "object"}})
	driver, exited := startExecDriver(t, s, "--resources", "work", "--workspace-root", t.TempDir())
	runID := execRun(s, "sh", map[string]any{"id": "run", "driver": "exec", "with": map[string]any{"run": "echo started $$; sleep 120"}})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(joinedLogs(s, runID), "started") {
		if time.Now().After(deadline) {
			t.Fatalf("the exec driver never started the script; run: %v", s.must(http.StatusOK, "GET", "/runs/"+runID, nil))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The killed driver cannot end its script: the test does, the whole
	// process group the script's shell leads.
	var group int
	if _, err := fmt.Sscanf(joinedLogs(s, runID), "started %d", &group); err == nil && group > 0 {
		t.Cleanup(func() { _ = syscall.Kill(-group, syscall.SIGKILL) })
	}
	if err := driver.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-exited
	run := s.waitRun(runID)
	step := runStep(run, "run")
	if run["status"] != "failed" || step["timedOut"] != true || !strings.Contains(run["message"].(string), "stopped sending heartbeats") {
		t.Fatalf("run %v %q, step %v", run["status"], run["message"], step)
	}
	noticed := parseTime(t, eventsOfType(s.runEvents(runID), domain.TypeStepTimedOut)[0]["time"])
	d := noticed.Sub(killed)
	t.Logf("the killed driver was noticed %s after the kill", d)
	if d > 5*time.Second {
		t.Errorf("the killed driver was noticed %s after the kill, want within 5s", d)
	}
}

// joinedLogs is the stored log of a run, one line per line.
func joinedLogs(s *testServer, runID string) string {
	var b strings.Builder
	status, page := s.call("GET", "/runs/"+runID+"/logs", nil)
	if status != http.StatusOK {
		return "" // the run is not in the read models yet
	}
	for _, l := range page["items"].([]any) {
		b.WriteString(l.(map[string]any)["message"].(string) + "\n")
	}
	return b.String()
}

// TestPipelineTimeoutFieldsAreChecked: a timeout that is no duration, or a
// retry policy out of bounds, is a 422 at its field, and nothing is written.
func TestPipelineTimeoutFieldsAreChecked(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	before := s.settle()
	for _, c := range []struct {
		pipeline map[string]any
		want     string
	}{
		{map[string]any{"timeout": "an hour", "steps": []map[string]any{{"id": "a", "driver": "x"}}}, `must be a positive Go duration`},
		{map[string]any{"steps": []map[string]any{{"id": "a", "driver": "x", "timeout": "0s"}}}, `steps[0].timeout`},
		{map[string]any{"steps": []map[string]any{{"id": "a", "driver": "x", "retry": map[string]any{"attempts": 0}}}}, `retry.attempts`},
		{map[string]any{"steps": []map[string]any{{"id": "a", "driver": "x", "retry": map[string]any{"attempts": 2, "on": []string{"always"}}}}}, `retry.on[0]`},
	} {
		c.pipeline["name"], c.pipeline["resource"] = "ci", "build"
		status, body := s.callRaw("POST", "/pipelines", c.pipeline)
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), c.want) {
			t.Errorf("%v: %d %s, want 422 with %q", c.pipeline, status, body, c.want)
		}
	}
	s.unchanged(before, "refused pipelines")
}
