package gitstatus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
)

// Public APIs used when a report names no base URL.
const (
	GitHubAPI = "https://api.github.com"
	GitLabAPI = "https://gitlab.com"
)

// Poster posts statuses over HTTP. Safe for concurrent use.
type Poster struct {
	// Client sends the requests; one with a 10 s timeout when nil.
	Client *http.Client
}

var _ engine.StatusPoster = Poster{}

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Post sends s for target with token, linking to targetURL ("" for none).
// GitHub: POST {base}/repos/{owner}/{repo}/statuses/{sha}, bearer token,
// a JSON body. Gitea: the same under /api/v1, "token TOKEN". GitLab: POST
// {base}/api/v4/projects/{id or path}/statuses/{sha} with the status in
// the query, PRIVATE-TOKEN, and its own state names (failed, canceled).
// An answer other than 2xx is an error; engine.ErrStatusRefused marks a 4xx
// but 408 and 429, which sending again will not change.
func (p Poster) Post(ctx context.Context, target domain.StatusTarget, token []byte, s domain.CommitStatus, targetURL string) error {
	req, err := request(ctx, target, string(token), s, targetURL)
	if err != nil {
		return fmt.Errorf("%w: %v", engine.ErrStatusRefused, err)
	}
	client := p.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Redacted(), resp.Status, strings.TrimSpace(string(body)))
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return fmt.Errorf("%w: %v", engine.ErrStatusRefused, err)
	}
	return err
}

// gitlabStates are GitLab's names of the states.
var gitlabStates = map[string]string{domain.StatusPending: "pending", domain.StatusSuccess: "success",
	domain.StatusFailure: "failed", domain.StatusError: "canceled"}

// request is the request that posts s.
func request(ctx context.Context, target domain.StatusTarget, token string, s domain.CommitStatus, targetURL string) (*http.Request, error) {
	base := strings.TrimSuffix(target.BaseURL, "/")
	sha := url.PathEscape(target.SHA)
	if target.Kind == domain.SourceGitLab {
		if base == "" {
			base = GitLabAPI
		}
		q := url.Values{"state": {gitlabStates[s.State]}, "name": {s.Context}, "description": {s.Description}}
		if targetURL != "" {
			q.Set("target_url", targetURL)
		}
		u := base + "/api/v4/projects/" + url.PathEscape(target.Repository) + "/statuses/" + sha + "?" + q.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
		if err == nil {
			req.Header.Set("PRIVATE-TOKEN", token)
		}
		return req, err
	}
	owner, repo, ok := strings.Cut(target.Repository, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("repository %q is not owner/name", target.Repository)
	}
	path, auth := "/repos/", "Bearer "+token
	switch target.Kind {
	case domain.SourceGitHub:
		if base == "" {
			base = GitHubAPI
		}
	case domain.SourceGitea:
		path, auth = "/api/v1/repos/", "token "+token
	default:
		return nil, fmt.Errorf("no git host of kind %q", target.Kind)
	}
	body, err := json.Marshal(map[string]string{"state": s.State, "target_url": targetURL, "description": s.Description, "context": s.Context})
	if err != nil {
		return nil, err
	}
	u := base + path + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/statuses/" + sha
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return req, nil
}
