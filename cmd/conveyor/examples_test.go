package main

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPipelineExamples runs every example of examples/pipelines through the
// binary with `conveyor driver exec`, started as their comments say, as a
// user would.
func TestPipelineExamples(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	s := server.client(t, "/conveyor")
	startExecDriver(t, s, "--resources", "source", "--concurrency", "4", "--workspace-root", t.TempDir())
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
	if code, out := apply("source.yaml", false); code != 0 {
		t.Fatalf("source.yaml: %d\n%s", code, out)
	}
	runOf := regexp.MustCompile(`run ([0-9a-f-]{36})\)`)
	for _, tc := range []struct {
		file string
		code int
		want []string
	}{
		{"graph.yaml", 0, []string{"unit (exec) succeeded", "lint (exec) succeeded", "publish (exec) succeeded"}},
		// Every attempt shows, however quickly it failed: apply --wait
		// follows the run's events.
		{"retry.yaml", 0, []string{"fetch (exec) dispatched\n", "fetch (exec) failed", " (attempt 1)\n", "fetch retries at ",
			"fetch (exec) dispatched (attempt 2)", "fetch (exec) failed: ", " (attempt 2)\n", "fetch (exec) dispatched (attempt 3)",
			"fetch (exec) succeeded"}},
		{"timeout.yaml", 1, []string{"no result within the step's timeout of 5s"}},
		{"when.yaml", 0, []string{"succeeded"}},
		{"secrets.yaml", 0, []string{"push (exec) succeeded"}},
		{"with.yaml", 0, []string{"greet (exec) succeeded"}},
		{"matrix.yaml", 0, []string{"test[go=1.26,os=darwin] (exec) succeeded", "test[go=1.27,os=linux,race=true] (exec) succeeded", "report (exec) succeeded"}},
		{"exec.yaml", 0, []string{"build (exec) succeeded", "test (exec) succeeded"}},
		{"concurrency.yaml", 0, []string{`queued in concurrency group "deploy-main"`, `admitted by concurrency group "deploy-main"`, "deploy (exec) succeeded"}},
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
