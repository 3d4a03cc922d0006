package gitstatus_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/conveyor/conveyor/adapters/gitstatus"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
	"github.com/google/go-cmp/cmp"
)

// request is what a git host received.
type request struct {
	Method, Path, Query, Auth string
	Body                      map[string]string
}

// host records each request and answers status.
func host(t *testing.T, status int) (*httptest.Server, *[]request) {
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		req := request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization")}
		if req.Auth == "" {
			req.Auth = "PRIVATE-TOKEN " + r.Header.Get("PRIVATE-TOKEN")
		}
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &req.Body); err != nil {
				t.Errorf("a body that is not JSON: %s", raw)
			}
		}
		got = append(got, req)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestPostEachHost(t *testing.T) {
	status := domain.CommitStatus{State: domain.StatusFailure, Description: "step compile failed in 12s", Context: "conveyor/ci", RunID: "r1"}
	const link = "https://ci.example.com/#/runs/r1"
	for _, tc := range []struct {
		kind, repository string
		want             request
	}{
		{domain.SourceGitHub, "acme/app", request{Method: "POST", Path: "/repos/acme/app/statuses/abc123", Auth: "Bearer t0ken",
			Body: map[string]string{"state": "failure", "target_url": link, "description": "step compile failed in 12s", "context": "conveyor/ci"}}},
		{domain.SourceGitea, "acme/app", request{Method: "POST", Path: "/api/v1/repos/acme/app/statuses/abc123", Auth: "token t0ken",
			Body: map[string]string{"state": "failure", "target_url": link, "description": "step compile failed in 12s", "context": "conveyor/ci"}}},
		{domain.SourceGitLab, "acme/app", request{Method: "POST", Path: "/api/v4/projects/acme%2Fapp/statuses/abc123", Auth: "PRIVATE-TOKEN t0ken",
			Query: "description=step+compile+failed+in+12s&name=conveyor%2Fci&state=failed&target_url=https%3A%2F%2Fci.example.com%2F%23%2Fruns%2Fr1"}},
	} {
		srv, got := host(t, http.StatusCreated)
		target := domain.StatusTarget{Kind: tc.kind, BaseURL: srv.URL, Token: "gh", Repository: tc.repository, SHA: "abc123"}
		if err := (gitstatus.Poster{}).Post(context.Background(), target, []byte("t0ken"), status, link); err != nil {
			t.Errorf("%s: %v", tc.kind, err)
			continue
		}
		if diff := cmp.Diff([]request{tc.want}, *got); diff != "" {
			t.Errorf("%s: requests (-want +got):\n%s", tc.kind, diff)
		}
	}
}

// A 4xx is refused for good; a 5xx may succeed later; a repository that is
// not owner/name is refused before anything is sent.
func TestPostErrors(t *testing.T) {
	status := domain.CommitStatus{State: domain.StatusPending, Description: "running", Context: "conveyor/ci"}
	for _, tc := range []struct {
		answer     int
		repository string
		refused    bool
	}{
		{http.StatusUnauthorized, "acme/app", true},
		{http.StatusTooManyRequests, "acme/app", false},
		{http.StatusInternalServerError, "acme/app", false},
		{http.StatusCreated, "acme", true},
	} {
		srv, _ := host(t, tc.answer)
		target := domain.StatusTarget{Kind: domain.SourceGitHub, BaseURL: srv.URL, Repository: tc.repository, SHA: "abc123"}
		err := (gitstatus.Poster{}).Post(context.Background(), target, []byte("t0ken"), status, "")
		if err == nil || errors.Is(err, engine.ErrStatusRefused) != tc.refused {
			t.Errorf("answer %d, repository %s: %v, want an error, refused for good: %v", tc.answer, tc.repository, err, tc.refused)
		}
	}
}
