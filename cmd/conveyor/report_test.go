package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// statusHost is a git host's status API that fails its first request with
// a 500 and takes the others, recording each; once refuse is set, it
// refuses every request with a 403 that echoes the token.
type statusHost struct {
	mu     sync.Mutex
	got    []map[string]string // method, path, auth, and the body's fields
	srv    *httptest.Server
	done   bool
	refuse bool
}

func newStatusHost(t *testing.T) *statusHost {
	h := &statusHost{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		req := map[string]string{}
		_ = json.Unmarshal(raw, &req)
		req["method"], req["path"], req["auth"] = r.Method, r.URL.Path, r.Header.Get("Authorization")
		h.mu.Lock()
		defer h.mu.Unlock()
		first := len(h.got) == 0
		req["answer"] = "201"
		if first {
			req["answer"] = "500"
		}
		if h.refuse {
			req["answer"] = "403"
		}
		h.got = append(h.got, req)
		switch {
		case h.refuse:
			http.Error(w, `{"message":"Resource not accessible by integration","token":"`+strings.TrimPrefix(req["auth"], "Bearer ")+`"}`,
				http.StatusForbidden)
			return
		case first:
			http.Error(w, "the host is down for a moment", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// states are the states the host took, in order.
func (h *statusHost) states() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.got {
		if r["answer"] == "201" {
			out = append(out, r["state"])
		}
	}
	return out
}

// TestRunsReportedToTheGitHost: a GitHub trigger with a report sends its
// run's start as pending and its end (here a cancel) as error to the
// host's status API, with the token, the repository and commit its
// expressions took from the push, and a link to the run's page under
// --public-url; a host that answers 500 once gets the status again. No
// consumer reads the run events for reports before a trigger reports. A
// host that refuses (a 403) has each status given up recorded, once, on
// the run's report aggregate, shown by GET /runs/{id} (statusReports,
// without the token the host echoed) and by `conveyor run RUNID`.
func TestRunsReportedToTheGitHost(t *testing.T) {
	host := newStatusHost(t)
	s := startServer(t, func(c *serverConfig) { c.PublicURL = "https://ci.example.com" })
	s.must(http.StatusOK, "PUT", "/secrets/webhook", map[string]any{"value": hookSecret})
	s.must(http.StatusOK, "PUT", "/secrets/gh-status", map[string]any{"value": "t0ken"})
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	doc := map[string]any{}
	for k, v := range githubTriggerDoc {
		doc[k] = v
	}
	doc["report"] = map[string]any{"kind": "github", "baseURL": host.srv.URL, "token": "unset",
		"repository": "body.repository.full_name", "sha": "body.after"}
	if status, out := s.call("PUT", "/triggers/github-app", doc); status != http.StatusUnprocessableEntity ||
		!strings.Contains(fmt.Sprint(out["errors"]), "body.report.token") {
		t.Errorf("a report whose token is not set: %d %v, want 422 naming body.report.token", status, out)
	}
	// Until a trigger reports, no consumer reads the run events for it.
	delete(doc, "report")
	s.must(http.StatusOK, "PUT", "/triggers/github-app", doc)
	s.must(http.StatusCreated, "POST", "/resources", buildResource("before-reports", "abc"))
	if names := s.consumerNames("CONVEYOR_EVENTS"); slices.Contains(names, reporterConsumer) {
		t.Errorf("consumers before any trigger reports: %v", names)
	}
	doc["report"] = map[string]any{"kind": "github", "baseURL": host.srv.URL, "token": "gh-status",
		"repository": "body.repository.full_name", "sha": "body.after"}
	s.must(http.StatusOK, "PUT", "/triggers/github-app", doc)
	waitFor(t, "the reporter's consumer", func() bool { return slices.Contains(s.consumerNames("CONVEYOR_EVENTS"), reporterConsumer) })

	status, answer := s.deliver("github-app", githubPush, "X-GitHub-Event", "push", "X-GitHub-Delivery", "report-1",
		"X-Hub-Signature-256", "sha256="+signature(hookSecret, githubPush))
	runID, _ := answer["runid"].(string)
	if status != http.StatusCreated || runID == "" {
		t.Fatalf("delivery: %d %v", status, answer)
	}
	waitFor(t, "the pending status", func() bool { return len(host.states()) >= 1 })
	s.must(http.StatusOK, "POST", "/runs/"+runID+"/cancel", nil)
	waitFor(t, "the error status", func() bool { st := host.states(); return st[len(st)-1] == "error" })

	host.mu.Lock()
	if host.got[0]["answer"] != "500" || host.got[0]["state"] != "pending" {
		t.Errorf("first request %v, want the pending status the host failed", host.got[0])
	}
	for _, r := range host.got {
		want := map[string]string{"method": "POST", "path": "/repos/acme/app/statuses/1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5",
			"auth": "Bearer t0ken", "target_url": "https://ci.example.com/#/runs/" + runID, "context": "conveyor/ci"}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("request %v: %s %q, want %q", r, k, r[k], v)
			}
		}
		if r["state"] == "error" && !strings.HasPrefix(r["description"], "cancelled") {
			t.Errorf("the error status says %q, want cancelled …", r["description"])
		}
	}
	host.refuse = true
	host.mu.Unlock()
	if run := s.must(http.StatusOK, "GET", "/runs/"+runID, nil); run["statusReports"] != nil {
		t.Errorf("a run whose statuses were all reported: statusReports %v", run["statusReports"])
	}

	status, answer = s.deliver("github-app", githubPush, "X-GitHub-Event", "push", "X-GitHub-Delivery", "report-2",
		"X-Hub-Signature-256", "sha256="+signature(hookSecret, githubPush))
	refused, _ := answer["runid"].(string)
	if status != http.StatusCreated || refused == "" {
		t.Fatalf("second delivery: %d %v", status, answer)
	}
	waitFor(t, "the pending status given up", func() bool { return len(s.statusReports(refused)) == 1 })
	s.must(http.StatusOK, "POST", "/runs/"+refused+"/cancel", nil)
	waitFor(t, "the error status given up", func() bool { return len(s.statusReports(refused)) == 2 })
	reports := s.statusReports(refused)
	for i, want := range []string{"pending", "error"} {
		r := reports[i]
		msg, _ := r["message"].(string)
		if r["status"] != want || r["attempts"] != float64(1) || r["trigger"] != "github-app" || r["at"] == nil ||
			!strings.Contains(msg, "403") || !strings.Contains(msg, "Resource not accessible") || strings.Contains(msg, "t0ken") {
			t.Errorf("status given up %d: %v; want %s, 1 attempt, the host's 403 without the token", i, r, want)
		}
	}
	if events := s.logEvents("report/" + refused); len(events) != 2 || events[0]["type"] != "StatusReportFailed.v1" ||
		events[0]["causationId"] == nil {
		t.Errorf("the run's report aggregate: %v; want two StatusReportFailed.v1", events)
	}
	code, out, errOut := cliRun(t, &process{at: s.at, token: s.token}, "", "run", refused)
	if code != 0 || !strings.Contains(out, "Commit status 'pending' could not be reported to the git host: ") ||
		!strings.Contains(out, "Commit status 'error' could not be reported to the git host: ") || !strings.Contains(out, "(1 attempt)\n") {
		t.Errorf("conveyor run %s: exit %d\n%s%s", refused, code, out, errOut)
	}
}

// statusReports are the run's statuses given up, as GET /runs/{id} shows
// them.
func (s *testServer) statusReports(runID string) []map[string]any {
	run := s.must(http.StatusOK, "GET", "/runs/"+runID, nil)
	list, _ := run["statusReports"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, r := range list {
		m, _ := r.(map[string]any)
		out = append(out, m)
	}
	return out
}
