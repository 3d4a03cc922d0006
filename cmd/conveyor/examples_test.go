package main

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPipelineExamples runs every example of examples/pipelines through the
// binary with the example shell driver (exec.yaml with `conveyor driver
// exec`), as a user would.
func TestPipelineExamples(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	s := server.client(t, "/conveyor")
	startExample(t, "../../examples/shell", driverNATS(t, server.at, "shell"))
	startExecDriver(t, s, "--resources", "source", "--workspace-root", t.TempDir())
	if code, out, errOut := cliRun(t, server, "hunter2-password\n", "secrets", "set", "registry-password"); code != 0 {
		t.Fatalf("secrets set: %d %s%s", code, out, errOut)
	}
	apply := func(file string, wait bool) (int, string) {
		t.Helper()
		data, err := os.ReadFile("../../examples/pipelines/" + file)
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"apply", "-f", "-"}
		if wait {
			args = append(args, "--wait", "--timeout", "60s")
		}
		code, out, errOut := cliRun(t, server, string(data), args...)
		return code, out + errOut
	}
	if code, out := apply("job.yaml", false); code != 0 {
		t.Fatalf("job.yaml: %d\n%s", code, out)
	}
	runOf := regexp.MustCompile(`run ([0-9a-f-]{36})\)`)
	for _, tc := range []struct {
		file string
		code int
		want []string
	}{
		{"graph.yaml", 0, []string{"unit (shell) succeeded", "lint (shell) succeeded", "publish (shell) succeeded"}},
		// Every attempt shows, however quickly it failed: apply --wait
		// follows the run's events.
		{"retry.yaml", 0, []string{"fetch (shell) dispatched\n", "fetch (shell) failed", " (attempt 1)\n", "fetch retries at ",
			"fetch (shell) dispatched (attempt 2)", "fetch (shell) failed: ", " (attempt 2)\n", "fetch (shell) dispatched (attempt 3)",
			"fetch (shell) succeeded"}},
		{"timeout.yaml", 1, []string{"no result within the step's timeout of 5s"}},
		{"when.yaml", 0, []string{"succeeded"}},
		{"secrets.yaml", 0, []string{"push (shell) succeeded"}},
		{"with.yaml", 0, []string{"greet (shell) succeeded"}},
		{"matrix.yaml", 0, []string{"test[go=1.26,os=darwin] (shell) succeeded", "test[go=1.27,os=linux,race=true] (shell) succeeded", "report (shell) succeeded"}},
		{"exec.yaml", 0, []string{"build (exec) succeeded", "test (exec) succeeded"}},
		{"concurrency.yaml", 0, []string{`queued in concurrency group "deploy-main"`, `admitted by concurrency group "deploy-main"`, "deploy (shell) succeeded"}},
	} {
		code, out := apply(tc.file, true)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s", tc.file, code, tc.code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q\n%s", tc.file, w, out)
			}
		}
		m := runOf.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("%s: no run in\n%s", tc.file, out)
		}
		run := s.must(http.StatusOK, "GET", "/runs/"+m[1], nil)
		switch tc.file {
		case "retry.yaml":
			if a := runStep(run, "fetch")["attempt"]; a != float64(3) {
				t.Errorf("retry.yaml: fetch took %v attempts, want 3", a)
			}
		case "when.yaml":
			if st := runStep(run, "deploy"); st["status"] != "skipped" {
				t.Errorf("when.yaml: deploy %v", st)
			}
		case "secrets.yaml":
			if logs := joinedLogs(s, m[1]); !strings.Contains(logs, "logging in with ***") || strings.Contains(logs, "hunter2") {
				t.Errorf("secrets.yaml: the log\n%s", logs)
			}
		case "exec.yaml":
			if logs := joinedLogs(s, m[1]); !strings.Contains(logs, "built out/artifact.txt\nbuilt from main\n") {
				t.Errorf("exec.yaml: the log\n%s", logs)
			}
		case "matrix.yaml":
			logs := joinedLogs(s, m[1])
			for _, line := range []string{"test[go=1.25,os=linux]: testing linux/go1.25\n", "test[go=1.26,os=darwin]: testing darwin/go1.26\n",
				"test[go=1.27,os=linux,race=true]: testing linux/go1.27\n", "report: testing all of them\n"} {
				if !strings.Contains(logs, line) {
					t.Errorf("matrix.yaml: the log lacks %q\n%s", line, logs)
				}
			}
			if strings.Contains(logs, "test[go=1.25,os=darwin]") {
				t.Errorf("matrix.yaml: the excluded combination ran\n%s", logs)
			}
		case "concurrency.yaml":
			var spans [][2]time.Time
			seen := map[string]bool{}
			for _, id := range runOf.FindAllStringSubmatch(out, -1) {
				if seen[id[1]] {
					continue
				}
				seen[id[1]] = true
				st := runStep(s.must(http.StatusOK, "GET", "/runs/"+id[1], nil), "deploy")
				start, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(st["dispatchedAt"]))
				end, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(st["finishedAt"]))
				spans = append(spans, [2]time.Time{start, end})
			}
			slices.SortFunc(spans, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
			if len(spans) != 2 || spans[1][0].Before(spans[0][1]) {
				t.Errorf("concurrency.yaml: the deploys overlap: %v\n%s", spans, out)
			}
		case "with.yaml":
			if logs := joinedLogs(s, m[1]); strings.Count(logs, "hello from params-1 on main\n") != 2 {
				t.Errorf("with.yaml: the log\n%s", logs)
			}
		}
	}
	code, out := apply("approval.yaml", false)
	m := runOf.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("approval.yaml: %d\n%s", code, out)
	}
	s.waitStep(m[1], "gate", "waiting")
	if code, out, errOut := cliRun(t, server, "", "approve", m[1], "gate", "-m", "looks good"); code != 0 {
		t.Fatalf("approve: %d %s%s", code, out, errOut)
	}
	if run := s.waitRun(m[1]); run["status"] != "succeeded" {
		t.Errorf("approval.yaml after the approval: %v", run["status"])
	}
}

// TestShellDriverEndsTheWholeCommand: a step of the shell example that
// times out while a child of its command sleeps, ignoring SIGTERM, has its
// whole process group gone within the driver's grace (5s) of the timeout;
// the driver then takes new work, and SIGINT ends it at once (the SDK would
// wait 30s for work still in flight). Nothing the test started outlives it.
func TestShellDriverEndsTheWholeCommand(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "job", "schema": map[string]any{"type": "object"}})
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "sh", "resource": "job",
		"steps": []map[string]any{{"id": "run", "driver": "shell", "timeout": "2s"}}})
	driver := startExample(t, "../../examples/shell", driverNATS(t, s.at, "shell"))
	exited := make(chan error, 1)
	go func() { exited <- driver.Wait() }()
	job := func(name, command string) string {
		return s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": name, "resource": "job", "pipeline": "sh",
			"spec": map[string]any{"command": command}})["runid"].(string)
	}

	runID := job("stubborn", `trap "" TERM; sleep 3600 & echo "child $!"; wait`)
	waitLog(t, s, runID, "child ")
	var child int
	if _, err := fmt.Sscanf(joinedLogs(s, runID), "child %d", &child); err != nil {
		t.Fatalf("no child pid in the log: %v\n%s", err, joinedLogs(s, runID))
	}
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) }) // should the test fail (child is reused below)
	if run := s.waitRun(runID); run["status"] != "failed" || runStep(run, "run")["timedOut"] != true {
		t.Fatalf("run %v, step %v; want failed, timed out", run["status"], runStep(run, "run"))
	}
	timedOut := time.Now()
	for alive(child) {
		if time.Since(timedOut) > 5*time.Second+2*time.Second {
			t.Fatalf("the command's child %d still runs %s after the step timed out", child, time.Since(timedOut))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the child was gone %s after the run failed", time.Since(timedOut).Round(time.Millisecond))

	// Its next work: a command that exits 0 leaving a child in the
	// background, which holds the output open. The step succeeds once
	// the grace has passed, and the child is killed.
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "bg", "resource": "job",
		"steps": []map[string]any{{"id": "run", "driver": "shell"}}})
	bg := s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": "background", "resource": "job", "pipeline": "bg",
		"spec": map[string]any{"command": `sleep 3600 & echo "child $!"`}})["runid"].(string)
	waitLog(t, s, bg, "child ")
	if _, err := fmt.Sscanf(joinedLogs(s, bg), "child %d", &child); err != nil {
		t.Fatalf("no child pid in the log: %v\n%s", err, joinedLogs(s, bg))
	}
	if run := s.waitRun(bg); run["status"] != "succeeded" {
		t.Errorf("the driver's next work: %v %v", run["status"], run["message"])
	}
	// The driver kills the group before it publishes the result; a
	// process killed dies once the kernel runs it, which on a busy machine
	// can come a little after the result.
	for killed := time.Now(); alive(child); time.Sleep(20 * time.Millisecond) {
		if time.Since(killed) > 3*time.Second {
			t.Errorf("the background child %d of a finished command still runs", child)
			break
		}
	}

	interruptDriver(t, driver.Process, exited, 10*time.Second)
}

// alive says whether the process pid runs (a zombie does not).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
