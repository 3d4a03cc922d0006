package main

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPipelineExamples runs every example of examples/pipelines through the
// binary with the example shell driver, as a user would.
func TestPipelineExamples(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	s := server.client(t, "/conveyor")
	startExample(t, "../../examples/shell", driverNATS(t, server.at, "shell"))
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
		{"retry.yaml", 0, []string{"fetch (shell) succeeded"}},
		{"timeout.yaml", 1, []string{"no result within the step's timeout of 5s"}},
		{"when.yaml", 0, []string{"succeeded"}},
		{"secrets.yaml", 0, []string{"push (shell) succeeded"}},
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
