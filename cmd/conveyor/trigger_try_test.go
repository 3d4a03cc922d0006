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
// `conveyor triggers deliveries` list the deliveries a trigger took, newest
// first, each with its event, id, commit, resource and run; one it did not
// take is not listed; an unknown trigger is a 404.
func TestTriggerDeliveriesListed(t *testing.T) {
	s := startTriggerServer(t)
	deliver := func(id, event, body string) map[string]any {
		t.Helper()
		_, answer := s.deliver("github-app", body, "X-GitHub-Event", event, "X-GitHub-Delivery", id,
			"X-Hub-Signature-256", "sha256="+signature(hookSecret, body))
		return answer
	}
	first := deliver("d-1", "push", githubPush)
	deliver("d-2", "release", githubPush) // not taken: 202
	second := deliver("d-3", "push", githubTagPush)
	out := s.must(http.StatusOK, "GET", "/triggers/github-app/deliveries", nil)
	items, _ := out["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("deliveries: %v", out)
	}
	latest, older := items[0].(map[string]any), items[1].(map[string]any)
	if latest["delivery"] != "d-3" || latest["event"] != "tag" || latest["runid"] != second["runid"] || latest["resource"] != "build/gh-tag-2b3c4d5" {
		t.Errorf("the latest delivery: %v (the answer was %v)", latest, second)
	}
	if older["delivery"] != "d-1" || older["commit"] != "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5" || older["ref"] != "refs/heads/main" ||
		older["runid"] != first["runid"] {
		t.Errorf("the first delivery: %v (the answer was %v)", older, first)
	}
	if status, body := s.call("GET", "/triggers/nope/deliveries", nil); status != http.StatusNotFound {
		t.Errorf("an unknown trigger's deliveries: %d %v", status, body)
	}
	server := &process{at: s.at, token: s.token}
	code, table, errOut := cliRun(t, server, "", "triggers", "deliveries", "github-app")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[1], "d-3") || !strings.Contains(lines[2], "1a2b3c4") ||
		!strings.Contains(lines[2], first["runid"].(string)) {
		t.Errorf("conveyor triggers deliveries: exit %d\n%s%s", code, table, errOut)
	}
}
