package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTriggerTriedOnAPayload: POST /triggers/{name}/test and `conveyor
// triggers test` say what a delivery would do (the resource and its spec,
// or why nothing), check the spec against the definition as a delivery
// would, need no signature, and write nothing.
func TestTriggerTriedOnAPayload(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusOK, "PUT", "/secrets/webhook", map[string]any{"value": hookSecret})
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	s.must(http.StatusOK, "PUT", "/triggers/github-app", githubTriggerDoc)
	before := s.lastSeq()

	fired := s.must(http.StatusOK, "POST", "/triggers/github-app/test", map[string]any{"event": "push", "payload": json.RawMessage(githubPush)})
	res, _ := fired["resource"].(map[string]any)
	spec, _ := res["spec"].(map[string]any)
	if fired["outcome"] != "would fire" || res["name"] != "gh-push-1a2b3c4" || res["pipeline"] != "ci" ||
		spec["ref"] != "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5" {
		t.Errorf("a push tried: %v", fired)
	}
	// The event from the headers, as the host sends it.
	byHeader := s.must(http.StatusOK, "POST", "/triggers/github-app/test", map[string]any{
		"headers": map[string]string{"X-GitHub-Event": "pull_request"}, "payload": json.RawMessage(githubPullRequest)})
	if res, _ := byHeader["resource"].(map[string]any); byHeader["event"] != "pull_request" || res["name"] != "gh-pull_request-3c4d5e6" {
		t.Errorf("a pull request tried by its header: %v", byHeader)
	}
	ignored := s.must(http.StatusOK, "POST", "/triggers/github-app/test", map[string]any{"event": "release", "payload": json.RawMessage(githubPush)})
	if ignored["outcome"] != "ignored" || !strings.Contains(fmt.Sprint(ignored["reason"]), `does not take "release"`) || ignored["resource"] != nil {
		t.Errorf("an event the trigger does not take: %v", ignored)
	}
	// A spec the definition refuses is refused as a delivery's would be.
	status, refused := s.call("POST", "/triggers/github-app/test", map[string]any{"event": "push",
		"payload": json.RawMessage(`{"after":"1a2b3c4d5e6f","repository":{"clone_url":42}}`)})
	if status != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(refused), "repo") {
		t.Errorf("a payload whose spec the definition refuses: %d %v, want a 422 naming repo", status, refused)
	}
	if status, out := s.call("POST", "/triggers/nope/test", map[string]any{"payload": json.RawMessage(githubPush)}); status != http.StatusNotFound {
		t.Errorf("an unknown trigger: %d %v", status, out)
	}
	if after := s.lastSeq(); after != before {
		t.Errorf("trying wrote to the log: position %d → %d", before, after)
	}

	// The CLI, through the binary.
	server := &process{at: s.at, token: s.token}
	payload := filepath.Join(t.TempDir(), "push.json")
	if err := os.WriteFile(payload, []byte(githubPush), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cliRun(t, server, "", "triggers", "test", "github-app", "--payload", payload, "--header", "X-GitHub-Event=push")
	for _, want := range []string{"would fire (event push): write resource build/gh-push-1a2b3c4, which starts a run of pipeline ci",
		`ref: "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5"`, "nothing was written"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("conveyor triggers test: exit %d, lacks %q:\n%s%s", code, want, out, errOut)
		}
	}
	code, out, _ = cliRun(t, server, githubPing, "triggers", "test", "github-app", "--payload", "-", "--event", "ping")
	if code != 0 || !strings.HasPrefix(out, "ping (event ping)") {
		t.Errorf("conveyor triggers test of a ping from standard input: exit %d\n%s", code, out)
	}
	if code, _, errOut := cliRun(t, server, "", "triggers", "test", "github-app", "--payload", payload, "--header", "no-equals"); code != exitUsage ||
		!strings.Contains(errOut, "want NAME=VALUE") {
		t.Errorf("a header without =: exit %d, %q", code, errOut)
	}
	if after := s.lastSeq(); after != before {
		t.Errorf("the CLI's tries wrote to the log: position %d → %d", before, after)
	}
}

// TestTriggerDeliveriesListed: GET /triggers/{name}/deliveries and
// `conveyor triggers deliveries` list the deliveries to a trigger, newest
// first, each with its answer: those that wrote their resource (201, kept
// in the log) with their commit, resource and run; a ping (200), an event
// the trigger does not take (202), a delivery badly signed (401) and a
// form (415) with their status and reason, kept in the memory of the
// server that answered (they write nothing to the log). A bad delivery to
// a trigger that does not exist is remembered nowhere; an unknown
// trigger's list is a 404.
func TestTriggerDeliveriesListed(t *testing.T) {
	s := startTriggerServer(t)
	deliver := func(id, event, body string, wantStatus int) map[string]any {
		t.Helper()
		status, answer := s.deliver("github-app", body, "X-GitHub-Event", event, "X-GitHub-Delivery", id,
			"X-Hub-Signature-256", "sha256="+signature(hookSecret, body))
		if status != wantStatus {
			t.Fatalf("delivery %s: %d %v, want %d", id, status, answer, wantStatus)
		}
		return answer
	}
	first := deliver("d-1", "push", githubPush, http.StatusCreated)
	deliver("d-ping", "ping", githubPing, http.StatusOK)
	deliver("d-2", "release", githubPush, http.StatusAccepted) // not taken
	if status, _ := s.deliver("github-app", githubPush, "X-GitHub-Event", "push", "X-GitHub-Delivery", "d-bad",
		"X-Hub-Signature-256", "sha256="+signature("not the secret", githubPush)); status != http.StatusUnauthorized {
		t.Fatalf("a badly signed delivery: %d", status)
	}
	if status, _ := s.deliver("github-app", "payload=%7B%7D", "Content-Type", "application/x-www-form-urlencoded",
		"X-GitHub-Event", "push", "X-GitHub-Delivery", "d-form"); status != http.StatusUnsupportedMediaType {
		t.Fatalf("a form: %d", status)
	}
	if status, _ := s.deliver("nope", githubPush, "X-GitHub-Event", "push", "X-GitHub-Delivery", "d-nope"); status != http.StatusUnauthorized {
		t.Fatalf("a delivery to no trigger: %d", status)
	}
	second := deliver("d-3", "push", githubTagPush, http.StatusCreated)
	// The runs the deliveries started write their start when the engine
	// gets to them, which under load can be after this line.
	before := s.settle().seq

	out := s.must(http.StatusOK, "GET", "/triggers/github-app/deliveries", nil)
	items, _ := out["items"].([]any)
	want := []struct {
		delivery, event string
		status          float64
		kept, reason    string
	}{
		{"d-3", "tag", 201, "log", ""},
		{"d-form", "push", 415, "memory", "Content-Type"},
		{"d-bad", "push", 401, "memory", "not signed with the trigger's secret"},
		{"d-2", "release", 202, "memory", `does not take "release" events`},
		{"d-ping", "ping", 200, "memory", "pong"},
		{"d-1", "push", 201, "log", ""},
	}
	if len(items) != len(want) {
		t.Fatalf("deliveries: %d, want %d: %v", len(items), len(want), out)
	}
	for i, w := range want {
		d := items[i].(map[string]any)
		reason, _ := d["reason"].(string)
		if d["delivery"] != w.delivery || d["event"] != w.event || d["status"] != w.status || d["kept"] != w.kept ||
			!strings.Contains(reason, w.reason) || (w.reason == "") != (reason == "") {
			t.Errorf("delivery %d: %v; want %s, event %s, %v, kept %s, a reason with %q", i, d, w.delivery, w.event, w.status, w.kept, w.reason)
		}
	}
	latest, older := items[0].(map[string]any), items[5].(map[string]any)
	if latest["runid"] != second["runid"] || latest["resource"] != "build/gh-tag-2b3c4d5" {
		t.Errorf("the latest delivery: %v (the answer was %v)", latest, second)
	}
	if older["commit"] != "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5" || older["ref"] != "refs/heads/main" || older["runid"] != first["runid"] {
		t.Errorf("the first delivery: %v (the answer was %v)", older, first)
	}
	if status, body := s.call("GET", "/triggers/nope/deliveries", nil); status != http.StatusNotFound {
		t.Errorf("an unknown trigger's deliveries: %d %v", status, body)
	}
	if after := s.lastSeq(); after != before {
		t.Errorf("listing deliveries wrote to the log: position %d → %d", before, after)
	}
	server := &process{at: s.at, token: s.token}
	code, table, errOut := cliRun(t, server, "", "triggers", "deliveries", "github-app")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if code != 0 || len(lines) != 7 || !strings.Contains(lines[0], "ANSWER") || !strings.Contains(lines[1], "d-3") ||
		!strings.Contains(lines[6], "1a2b3c4") || !strings.Contains(lines[6], first["runid"].(string)) {
		t.Fatalf("conveyor triggers deliveries: exit %d\n%s%s", code, table, errOut)
	}
	for i, w := range want {
		if fields := strings.Fields(lines[i+1]); len(fields) < 7 || fields[4] != fmt.Sprint(w.status) || fields[5] != w.kept {
			t.Errorf("conveyor triggers deliveries, line %d: %q; want answer %v, kept %s", i+1, lines[i+1], w.status, w.kept)
		}
	}
}
