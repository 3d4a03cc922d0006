package main

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestTriggerCLIAndExamples applies examples/compile-upload and the trigger
// examples through the binary, lists, reads and deletes triggers with the
// CLI, and sends each example trigger a delivery shaped as its git host
// sends it: each builds the commit it names.
func TestTriggerCLIAndExamples(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	s := server.client(t, "/conveyor")
	run := func(stdin string, args ...string) (int, string) {
		t.Helper()
		code, out, errOut := cliRun(t, server, stdin, args...)
		return code, out + errOut
	}
	for _, secret := range []string{"github-webhook", "gitlab-webhook"} {
		if code, out := run(hookSecret+"\n", "secrets", "set", secret); code != 0 {
			t.Fatalf("secrets set %s: %d %s", secret, code, out)
		}
	}
	apply := func(file string) (int, string) {
		t.Helper()
		data, err := os.ReadFile("../../examples/" + file)
		if err != nil {
			t.Fatal(err)
		}
		return run(string(data), "apply", "-f", "-")
	}
	if code, out := apply("compile-upload/all.yaml"); code != 0 {
		t.Fatalf("compile-upload/all.yaml: %d %s", code, out)
	}
	for _, tc := range []struct{ file, want string }{
		{"triggers/github-push.yaml", "trigger/github-push applied\n"},
		{"triggers/gitlab-push.yaml", "trigger/gitlab-push applied\n"},
		{"triggers/nightly.yaml", "trigger/nightly applied\n"},
		{"triggers/github-push.yaml", "trigger/github-push unchanged\n"},
		{"triggers/nightly.yaml", "trigger/nightly unchanged\n"},
	} {
		if code, out := apply(tc.file); code != 0 || out != tc.want {
			t.Errorf("apply %s: exit %d %q, want %q", tc.file, code, out, tc.want)
		}
	}

	code, out := run("", "triggers")
	if code != 0 || !strings.Contains(out, "github-push") || !strings.Contains(out, "gitlab-push") || !strings.Contains(out, "push,ping") ||
		!strings.Contains(out, "0 2 * * * Europe/Paris") {
		t.Errorf("conveyor triggers: exit %d\n%s", code, out)
	}
	if code, got := run("", "get", "triggers"); code != 0 || got != out {
		t.Errorf("conveyor get triggers: exit %d\n%s\nwant as conveyor triggers:\n%s", code, got, out)
	}
	code, doc := run("", "triggers", "get", "github-push", "-o", "yaml")
	if code != 0 || !strings.Contains(doc, "kind: Trigger") || !strings.Contains(doc, "secret: github-webhook") {
		t.Errorf("triggers get -o yaml: exit %d\n%s", code, doc)
	}
	if code, out := run(doc, "apply", "-f", "-"); code != 0 || out != "trigger/github-push unchanged\n" {
		t.Errorf("applying what triggers get wrote: exit %d %q", code, out)
	}
	code, doc = run("", "triggers", "get", "nightly", "-o", "yaml")
	if code != 0 || !strings.Contains(doc, "schedule: 0 2 * * *") || !strings.Contains(doc, "timeZone: Europe/Paris") {
		t.Errorf("triggers get nightly -o yaml: exit %d\n%s", code, doc)
	}
	if code, out := run(doc, "apply", "-f", "-"); code != 0 || out != "trigger/nightly unchanged\n" {
		t.Errorf("applying what triggers get wrote of a schedule: exit %d %q", code, out)
	}

	for _, tc := range []struct {
		trigger, body, resource string
		headers                 []string
	}{
		{"github-push", githubPush, "build/app-1a2b3c4d5e6f", []string{"X-GitHub-Event", "push", "X-GitHub-Delivery", "cli-1",
			"X-Hub-Signature-256", "sha256=" + signature(hookSecret, githubPush)}},
		{"gitlab-push", gitlabTagPush, "build/app-5e6f708192a3", []string{"X-Gitlab-Event", "Tag Push Hook", "X-Gitlab-Event-UUID", "cli-2",
			"X-Gitlab-Token", hookSecret}},
	} {
		status, answer := s.deliver(tc.trigger, tc.body, tc.headers...)
		if status != http.StatusCreated || answer["resource"] != tc.resource {
			t.Errorf("a delivery to %s: %d %v, want 201 writing %s", tc.trigger, status, answer, tc.resource)
			continue
		}
		runID, _ := answer["runid"].(string)
		waitFor(t, "the run of "+tc.resource, func() bool { status, _ := s.call("GET", "/runs/"+runID, nil); return status == http.StatusOK })
		if code, out := run("", "trace", runID); code != 0 || !strings.Contains(out, "TriggerFired.v1") || !strings.Contains(out, "trigger "+tc.trigger) {
			t.Errorf("conveyor trace of the run %s started: exit %d\n%s", tc.trigger, code, out)
		}
	}

	if code, out := run("", "triggers", "delete", "gitlab-push"); code != 0 || out != "trigger/gitlab-push deleted\n" {
		t.Errorf("triggers delete: exit %d %q", code, out)
	}
	if code, out := run("", "triggers", "get", "gitlab-push"); code == 0 || !strings.Contains(out, "not found") {
		t.Errorf("triggers get of a deleted trigger: exit %d %q", code, out)
	}
}
