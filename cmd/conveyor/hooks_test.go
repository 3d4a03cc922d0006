package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

// hookSecret is the value of the secret the tests' triggers are signed with.
const hookSecret = "It's a Secret to Everybody"

// Triggers of the tests: one per git host, each writing a build resource
// named after the event and the commit, run by the pipeline ci.
var (
	githubTriggerDoc = map[string]any{"source": "github", "events": []string{"push", "tag", "pull_request", "ping"}, "secret": "webhook",
		"pipeline": "ci", "resource": map[string]any{"type": "build",
			"name": `"gh-" + event + "-" + (event == "pull_request" ? body.pull_request.head.sha : body.after).substring(0, 7)`,
			"spec": map[string]any{"repo": "body.repository.clone_url",
				"ref": `event == "pull_request" ? body.pull_request.head.sha : body.after`}}}
	gitlabTriggerDoc = map[string]any{"source": "gitlab", "events": []string{"push", "tag", "merge_request"}, "secret": "webhook",
		"pipeline": "ci", "resource": map[string]any{"type": "build",
			"name": `"gl-" + event + "-" + (event == "merge_request" ? body.object_attributes.last_commit.id : body.checkout_sha).substring(0, 7)`,
			"spec": map[string]any{"repo": "body.project.git_http_url",
				"ref": `event == "merge_request" ? body.object_attributes.last_commit.id : body.checkout_sha`}}}
	giteaTriggerDoc = map[string]any{"source": "gitea", "events": []string{"push"}, "secret": "webhook", "pipeline": "ci",
		"when": `body.ref == "refs/heads/main"`,
		"resource": map[string]any{"type": "build", "name": `"gt-" + body.after.substring(0, 7)`,
			"spec": map[string]any{"repo": "body.repository.clone_url", "ref": "body.after"}}}
)

// Bodies shaped as the git hosts send them, cut down to what the triggers
// read and a little more.
const (
	githubPush = `{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000",` +
		`"after":"1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5","repository":{"full_name":"acme/app","clone_url":"https://github.example/acme/app.git"},` +
		`"pusher":{"name":"dev"}}`
	githubTagPush = `{"ref":"refs/tags/v1.2.0","after":"2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5d6",` +
		`"repository":{"clone_url":"https://github.example/acme/app.git"}}`
	githubPullRequest = `{"action":"opened","number":7,"pull_request":{"head":{"ref":"feature","sha":"3c4d5e6f708192a3b4c5d6e7f80912a3b4c5d6e7"}},` +
		`"repository":{"clone_url":"https://github.example/acme/app.git"}}`
	githubPing     = `{"zen":"Keep it logically awesome.","hook_id":42}`
	gitlabPush     = `{"object_kind":"push","ref":"refs/heads/main","after":"4d5e6f708192a3b4c5d6e7f80912a3b4c5d6e7f8","checkout_sha":"4d5e6f708192a3b4c5d6e7f80912a3b4c5d6e7f8","project":{"git_http_url":"https://gitlab.example/acme/app.git"}}`
	gitlabTagPush  = `{"object_kind":"tag_push","ref":"refs/tags/v2.0.0","checkout_sha":"5e6f708192a3b4c5d6e7f80912a3b4c5d6e7f809","project":{"git_http_url":"https://gitlab.example/acme/app.git"}}`
	gitlabMerge    = `{"object_kind":"merge_request","object_attributes":{"iid":3,"source_branch":"fix","last_commit":{"id":"6f708192a3b4c5d6e7f80912a3b4c5d6e7f8091a"}},"project":{"git_http_url":"https://gitlab.example/acme/app.git"}}`
	giteaPush      = `{"ref":"refs/heads/main","after":"708192a3b4c5d6e7f80912a3b4c5d6e7f8091a2b","repository":{"clone_url":"https://gitea.example/acme/app.git"}}`
	giteaPushOther = `{"ref":"refs/heads/dev","after":"8192a3b4c5d6e7f80912a3b4c5d6e7f8091a2b3c","repository":{"clone_url":"https://gitea.example/acme/app.git"}}`
)

// signature is the HMAC-SHA256 of body under key, in hex.
func signature(key, body string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(body))
	return hex.EncodeToString(mac.Sum(nil))
}

// deliver posts body to the trigger's hook with headers and no token, as
// a git host does.
func (s *testServer) deliver(trigger, body string, headers ...string) (int, map[string]any) {
	s.t.Helper()
	return s.call("POST", "/hooks/"+trigger, body, append([]string{"Authorization", ""}, headers...)...)
}

// startTriggerServer starts a server with the walk-through's definition and
// pipeline, the secret webhook and the three triggers.
func startTriggerServer(t testing.TB) *testServer {
	s := startServer(t, nil)
	s.must(http.StatusOK, "PUT", "/secrets/webhook", map[string]any{"value": hookSecret})
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	s.must(http.StatusOK, "PUT", "/triggers/github-app", githubTriggerDoc)
	s.must(http.StatusOK, "PUT", "/triggers/gitlab-app", gitlabTriggerDoc)
	s.must(http.StatusOK, "PUT", "/triggers/gitea-app", giteaTriggerDoc)
	return s
}

// TestHookDeliveriesStartRuns: deliveries shaped as GitHub, GitLab and
// Gitea send them, signed, each write the resource their trigger says and
// start its run, which traces back to the delivery's TriggerFired event.
func TestHookDeliveriesStartRuns(t *testing.T) {
	s := startTriggerServer(t)
	for _, tc := range []struct {
		name, trigger, body string
		headers             []string
		resource, sha       string
		event, ref          string
	}{
		{"github push", "github-app", githubPush, []string{"X-GitHub-Event", "push", "X-GitHub-Delivery", "gh-1"},
			"gh-push-1a2b3c4", "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5", "push", "refs/heads/main"},
		{"github tag", "github-app", githubTagPush, []string{"X-GitHub-Event", "push", "X-GitHub-Delivery", "gh-2"},
			"gh-tag-2b3c4d5", "2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5d6", "tag", "refs/tags/v1.2.0"},
		{"github pull request", "github-app", githubPullRequest, []string{"X-GitHub-Event", "pull_request", "X-GitHub-Delivery", "gh-3"},
			"gh-pull_request-3c4d5e6", "3c4d5e6f708192a3b4c5d6e7f80912a3b4c5d6e7", "pull_request", "feature"},
		{"gitlab push", "gitlab-app", gitlabPush, []string{"X-Gitlab-Event", "Push Hook", "X-Gitlab-Event-UUID", "gl-1", "X-Gitlab-Token", hookSecret},
			"gl-push-4d5e6f7", "4d5e6f708192a3b4c5d6e7f80912a3b4c5d6e7f8", "push", "refs/heads/main"},
		{"gitlab tag", "gitlab-app", gitlabTagPush, []string{"X-Gitlab-Event", "Tag Push Hook", "X-Gitlab-Event-UUID", "gl-2", "X-Gitlab-Token", hookSecret},
			"gl-tag-5e6f708", "5e6f708192a3b4c5d6e7f80912a3b4c5d6e7f809", "tag", "refs/tags/v2.0.0"},
		{"gitlab merge request", "gitlab-app", gitlabMerge, []string{"X-Gitlab-Event", "Merge Request Hook", "X-Gitlab-Event-UUID", "gl-3", "X-Gitlab-Token", hookSecret},
			"gl-merge_request-6f70819", "6f708192a3b4c5d6e7f80912a3b4c5d6e7f8091a", "merge_request", "fix"},
		{"gitea push", "gitea-app", giteaPush, []string{"X-Gitea-Event", "push", "X-Gitea-Delivery", "gt-1"},
			"gt-708192a", "708192a3b4c5d6e7f80912a3b4c5d6e7f8091a2b", "push", "refs/heads/main"},
	} {
		headers := tc.headers
		if tc.trigger != "gitlab-app" {
			headers = append(headers, "X-Hub-Signature-256", "sha256="+signature(hookSecret, tc.body))
		}
		status, answer := s.deliver(tc.trigger, tc.body, headers...)
		if status != http.StatusCreated || answer["outcome"] != "fired" || answer["resource"] != "build/"+tc.resource || answer["event"] != tc.event {
			t.Errorf("%s: %d %v, want 201 fired build/%s", tc.name, status, answer, tc.resource)
			continue
		}
		runID, _ := answer["runid"].(string)
		res := s.must(http.StatusOK, "GET", "/resources/build/"+tc.resource, nil)
		if spec := res["spec"].(map[string]any); spec["ref"] != tc.sha || !strings.HasSuffix(spec["repo"].(string), "/acme/app.git") || res["pipeline"] != "ci" {
			t.Errorf("%s: resource %v", tc.name, res)
		}
		var run map[string]any
		waitFor(t, tc.name+": the run starts", func() bool {
			var status int
			status, run = s.call("GET", "/runs/"+runID, nil)
			return status == http.StatusOK
		})
		if run["pipeline"].(map[string]any)["name"] != "ci" || run["resource"].(map[string]any)["name"] != tc.resource {
			t.Errorf("%s: run %v", tc.name, run)
		}
		delivery := tc.headers[3]
		trace := s.must(http.StatusOK, "GET", "/runs/"+runID+"/trace", nil)
		firedID := domain.FiredEventID(tc.trigger, delivery)
		if cause := trace["cause"].(map[string]any); cause["causationId"] != firedID {
			t.Errorf("%s: the run's cause %v is not caused by TriggerFired %s", tc.name, cause, firedID)
		}
		if trigger, _ := trace["trigger"].(map[string]any); trigger["id"] != firedID || trigger["delivery"] != tc.headers[3] {
			t.Errorf("%s: the trace's trigger %v is not TriggerFired %s", tc.name, trace["trigger"], firedID)
		}
		events := s.must(http.StatusOK, "GET", "/events?runid="+runID+"&type="+domain.TypeTriggerFired, nil)["items"].([]any)
		if len(events) != 1 {
			t.Fatalf("%s: TriggerFired events of the run: %v", tc.name, events)
		}
		fired := events[0].(map[string]any)
		want := map[string]any{"id": firedID, "trigger": tc.trigger, "event": tc.event, "delivery": delivery, "commit": tc.sha,
			"ref": tc.ref, "actor": map[string]any{"kind": "trigger", "name": tc.trigger}}
		got := map[string]any{"id": fired["id"], "trigger": fired["trigger"], "event": fired["event"], "delivery": fired["delivery"],
			"commit": fired["commit"], "ref": fired["ref"], "actor": fired["actor"]}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: TriggerFired (-want +got):\n%s", tc.name, diff)
		}
	}

	// A redelivery writes nothing and answers as the first delivery did.
	headers := []string{"X-GitHub-Event", "push", "X-GitHub-Delivery", "gh-1", "X-Hub-Signature-256", "sha256=" + signature(hookSecret, githubPush)}
	before := s.settle()
	status, again := s.deliver("github-app", githubPush, headers...)
	if status != http.StatusCreated || again["resource"] != "build/gh-push-1a2b3c4" || again["version"] != float64(1) {
		t.Errorf("redelivery: %d %v, want the first answer", status, again)
	}
	s.unchanged(before, "a redelivered delivery")

	// A new delivery of the same push writes a new version: a new run.
	headers[3] = "gh-4"
	status, next := s.deliver("github-app", githubPush, headers...)
	if status != http.StatusCreated || next["version"] != float64(2) || next["runid"] == again["runid"] {
		t.Errorf("a new delivery of the same push: %d %v, want version 2 and a new run", status, next)
	}

	// Ping, an event the trigger does not take, a false condition: answered,
	// nothing written.
	before = s.settle()
	for _, tc := range []struct {
		name, trigger, body string
		headers             []string
		status              int
		reason              string
	}{
		{"ping", "github-app", githubPing, []string{"X-GitHub-Event", "ping", "X-GitHub-Delivery", "p-1"}, http.StatusOK, "pong"},
		{"issues", "github-app", githubPing, []string{"X-GitHub-Event", "issues", "X-GitHub-Delivery", "i-1"}, http.StatusAccepted, `does not take "issues"`},
		{"gitea on dev", "gitea-app", giteaPushOther, []string{"X-Gitea-Event", "push", "X-Gitea-Delivery", "gt-2"}, http.StatusAccepted, "its condition is false"},
	} {
		status, answer := s.deliver(tc.trigger, tc.body, append(tc.headers, "X-Hub-Signature-256", "sha256="+signature(hookSecret, tc.body))...)
		if reason, _ := answer["reason"].(string); status != tc.status || !strings.Contains(reason, tc.reason) {
			t.Errorf("%s: %d %v, want %d with %q", tc.name, status, answer, tc.status, tc.reason)
		}
	}
	s.unchanged(before, "a ping and ignored deliveries")
	if parked := s.must(http.StatusOK, "GET", "/admin/parked", nil)["items"].([]any); len(parked) != 0 {
		t.Errorf("consumers parked events of the deliveries: %v", parked)
	}
}

// TestHookRefusesBadDeliveries: each bad delivery gets its status and
// message and writes nothing; refused signatures are counted.
func TestHookRefusesBadDeliveries(t *testing.T) {
	s := startTriggerServer(t)
	push := []string{"X-GitHub-Event", "push", "X-GitHub-Delivery", "bad-1"}
	signed := func(body string) []string {
		return append(append([]string(nil), push...), "X-Hub-Signature-256", "sha256="+signature(hookSecret, body))
	}
	before := s.settle()
	for _, tc := range []struct {
		name, trigger, body string
		headers             []string
		status              int
		detail              string
	}{
		{"wrong signature", "github-app", githubPush, append(push, "X-Hub-Signature-256", "sha256="+signature("guess", githubPush)), http.StatusUnauthorized, "not signed with the trigger's secret"},
		{"missing signature", "github-app", githubPush, push, http.StatusUnauthorized, "not signed with the trigger's secret"},
		{"signature of another body", "github-app", githubPush, signed(githubTagPush), http.StatusUnauthorized, "not signed with the trigger's secret"},
		{"wrong gitlab token", "gitlab-app", gitlabPush, []string{"X-Gitlab-Event", "Push Hook", "X-Gitlab-Event-UUID", "x", "X-Gitlab-Token", "guess"}, http.StatusUnauthorized, "not signed with the trigger's secret"},
		{"unknown trigger", "nobody", githubPush, signed(githubPush), http.StatusUnauthorized, "not signed with the trigger's secret"},
		{"malformed JSON", "github-app", `{"ref":`, signed(`{"ref":`), http.StatusBadRequest, "the body is not JSON"},
		{"no delivery id", "github-app", githubPush, []string{"X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256=" + signature(hookSecret, githubPush)}, http.StatusBadRequest, "X-GitHub-Delivery is missing"},
		{"form-encoded", "github-app", "payload=" + githubPush, append(signed("payload="+githubPush), "Content-Type", "application/x-www-form-urlencoded"), http.StatusUnsupportedMediaType, "choose application/json"},
	} {
		status, answer := s.deliver(tc.trigger, tc.body, tc.headers...)
		if detail, _ := answer["detail"].(string); status != tc.status || !strings.Contains(detail, tc.detail) {
			t.Errorf("%s: %d %v, want %d with %q", tc.name, status, answer, tc.status, tc.detail)
		}
	}
	big := `{"pad":"` + strings.Repeat("x", 5<<20) + `"}`
	if status, _ := s.deliver("github-app", big, signed(big)...); status != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over 5 MiB: %d, want 413", status)
	}
	s.unchanged(before, "refused deliveries")
	_, metrics := s.callRaw("GET", "/metrics", nil)
	if !strings.Contains(string(metrics), "conveyor_hook_deliveries_unauthenticated_total 5") {
		t.Errorf("/metrics does not count the 5 refused signatures:\n%s", grepLines(string(metrics), "hook"))
	}
}

// grepLines are the lines of text that hold word.
func grepLines(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestTriggerApplyRefusals: a trigger that cannot work is refused with 422
// naming the field and why, and nothing is written; a good one is read
// back, listed and deleted.
func TestTriggerApplyRefusals(t *testing.T) {
	s := startTriggerServer(t)
	with := func(change func(map[string]any)) map[string]any {
		doc := map[string]any{}
		for k, v := range githubTriggerDoc {
			doc[k] = v
		}
		doc["resource"] = map[string]any{"type": "build", "name": `"x"`, "spec": map[string]any{"ref": "body.after"}}
		change(doc)
		return doc
	}
	before := s.settle()
	for _, tc := range []struct {
		name   string
		doc    map[string]any
		detail string
	}{
		{"bad CEL", with(func(d map[string]any) { d["when"] = "body.ref ==" }), `when: "body.ref ==" is not a valid CEL expression`},
		{"bad name CEL", with(func(d map[string]any) {
			d["resource"] = map[string]any{"type": "build", "name": "body.after.nope(", "spec": map[string]any{}}
		}), `resource.name: "body.after.nope(" is not a valid CEL expression`},
		{"when not a condition", with(func(d map[string]any) { d["when"] = `"yes"` }), "must be true or false"},
		{"no secret", with(func(d map[string]any) { delete(d, "secret") }), "secret: must name the secret"},
		{"secret not set", with(func(d map[string]any) { d["secret"] = "unset" }), `secret "unset" is not set`},
		{"unknown type", with(func(d map[string]any) {
			d["resource"] = map[string]any{"type": "deploy", "name": `"x"`}
			delete(d, "pipeline")
		}), `resource definition "deploy" does not exist`},
		{"event github does not send", with(func(d map[string]any) { d["events"] = []string{"merge_request"} }), `github sends no event "merge_request"`},
		{"unknown source", with(func(d map[string]any) { d["source"] = "svn" }), "body.source message:expected value to be one of"},
		{"schedule with a secret", with(func(d map[string]any) {
			d["source"], d["schedule"] = "schedule", "@daily"
			delete(d, "events")
		}), "location:body.secret message:must be empty for a schedule trigger"},
	} {
		status, body := s.call("PUT", "/triggers/refused", tc.doc)
		if status != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(body), tc.detail) {
			t.Errorf("%s: %d %v, want 422 with %q", tc.name, status, body, tc.detail)
		}
	}
	s.unchanged(before, "refused triggers")

	got := s.must(http.StatusOK, "GET", "/triggers/github-app", nil)
	if got["version"] != "1" || got["secret"] != "webhook" || got["source"] != "github" {
		t.Errorf("GET /triggers/github-app: %v", got)
	}
	status, _ := s.callRaw("PUT", "/triggers/github-app", githubTriggerDoc)
	if status != http.StatusOK || s.must(http.StatusOK, "GET", "/triggers/github-app", nil)["version"] != "1" {
		t.Errorf("saving the same trigger again: %d, or its version moved", status)
	}
	items := s.must(http.StatusOK, "GET", "/triggers", nil)["items"].([]any)
	var names []string
	for _, it := range items {
		names = append(names, it.(map[string]any)["name"].(string))
	}
	if diff := cmp.Diff([]string{"gitea-app", "github-app", "gitlab-app"}, names); diff != "" {
		t.Errorf("GET /triggers (-want +got):\n%s", diff)
	}
	s.must(http.StatusNoContent, "DELETE", "/triggers/gitea-app", nil)
	s.must(http.StatusNotFound, "GET", "/triggers/gitea-app", nil)
	if status, _ := s.deliver("gitea-app", giteaPush, "X-Gitea-Event", "push", "X-Gitea-Delivery", "after-delete",
		"X-Hub-Signature-256", "sha256="+signature(hookSecret, giteaPush)); status != http.StatusUnauthorized {
		t.Errorf("a delivery to a deleted trigger: %d, want 401", status)
	}
}

// TestTriggerInsecureRefusedOffLoopback: a trigger without a secret is
// taken on a loopback API, refused when the API listens off loopback.
func TestTriggerInsecureRefusedOffLoopback(t *testing.T) {
	insecure := map[string]any{"source": "generic", "events": []string{"push"}, "insecure": true,
		"resource": map[string]any{"type": "build", "name": `"app-" + body.ref`, "spec": map[string]any{"repo": `"r"`, "ref": "body.ref"}}}
	for _, tc := range []struct {
		addr   string
		status int
	}{{"127.0.0.1:0", http.StatusOK}, {"0.0.0.0:0", http.StatusUnprocessableEntity}} {
		s := startServer(t, func(c *serverConfig) { c.Addr, c.Insecure = tc.addr, true })
		s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
		status, body := s.callRaw("PUT", "/triggers/open", insecure)
		if status != tc.status || (status != http.StatusOK && !strings.Contains(string(body), "listens off loopback")) {
			t.Errorf("--addr %s: %d %s, want %d", tc.addr, status, body, tc.status)
		}
		if status == http.StatusOK {
			status, answer := s.deliver("open", `{"ref":"main"}`)
			if status != http.StatusCreated || answer["resource"] != "build/app-main" {
				t.Errorf("an unsigned delivery to an insecure trigger: %d %v", status, answer)
			}
		}
	}
}

// TestTriggerRoles: admins write triggers, viewers read them, and the hook
// is the one write the OpenAPI document declares public.
func TestTriggerRoles(t *testing.T) {
	s := startTriggerServer(t)
	viewer, operator := s.issue("dashboard", "viewer"), s.issue("ci", "operator")
	before := s.settle()
	for _, token := range []string{viewer, operator} {
		if status, _, body := s.callAs(token, "PUT", "/triggers/mine", githubTriggerDoc); status != http.StatusForbidden || !strings.Contains(body, "needs admin") {
			t.Errorf("PUT /triggers/mine: %d %s; want 403 saying it needs admin", status, body)
		}
		if status, _, body := s.callAs(token, "DELETE", "/triggers/github-app", nil); status != http.StatusForbidden {
			t.Errorf("DELETE /triggers/github-app: %d %s; want 403", status, body)
		}
	}
	s.unchanged(before, "forbidden trigger writes")
	if status, _, body := s.callAs(viewer, "GET", "/triggers/github-app", nil); status != http.StatusOK {
		t.Errorf("a viewer reads a trigger: %d %s", status, body)
	}
	_, _, doc := s.callAs("", "GET", "/openapi.json", nil)
	var api struct {
		Paths map[string]map[string]struct {
			Role string `json:"x-conveyor-role"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(doc), &api); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/hooks/{trigger} post": "public", "/triggers/{name} put": "admin",
		"/triggers/{name} delete": "admin", "/triggers get": "viewer"} {
		p, method, _ := strings.Cut(path, " ")
		if got := api.Paths[p][method].Role; got != want {
			t.Errorf("%s %s: role %q, want %q", method, p, got, want)
		}
	}
}
