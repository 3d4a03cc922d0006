package main

import (
	"fmt"
	"net/http"
	"testing"
)

// FuzzHookDeliveries sends the triggers of startTriggerServer bodies of
// any shape, signed as their git hosts sign them, so that each reaches the
// JSON decoding and the expressions: whatever the body, the answer is never
// a 5xx.
func FuzzHookDeliveries(f *testing.F) {
	s := startTriggerServer(f)
	for _, seed := range []string{githubPush, githubPullRequest, gitlabMerge, `{"after":5}`, `{"after":"ABC DEF GHI"}`,
		`{"pull_request":null}`, `[]`, `null`, `"text"`, `{`, `{"after":"` + "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9" + `"}`} {
		f.Add(seed)
	}
	events := []string{"push", "pull_request", "ping", "issues"}
	delivery := 0
	f.Fuzz(func(t *testing.T, body string) {
		s.t = t
		delivery++
		id, event := fmt.Sprintf("fuzz-%d", delivery), events[delivery%len(events)]
		for trigger, headers := range map[string][]string{
			"github-app": {"X-GitHub-Event", event, "X-GitHub-Delivery", id, "X-Hub-Signature-256", "sha256=" + signature(hookSecret, body)},
			"gitlab-app": {"X-Gitlab-Event", "Merge Request Hook", "X-Gitlab-Event-UUID", id, "X-Gitlab-Token", hookSecret},
		} {
			if status, raw := s.callRaw("POST", "/hooks/"+trigger, body, append([]string{"Authorization", ""}, headers...)...); status >= http.StatusInternalServerError {
				t.Fatalf("POST /hooks/%s %q (%s): %d %s", trigger, body, event, status, raw)
			}
		}
	})
}
