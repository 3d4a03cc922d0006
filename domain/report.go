package domain

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// A trigger's Report sends each run it starts back to the git host as a
// commit status: pending when the run starts, then success, failure or
// error when it ends.

// Report kinds: the git host's API a status goes to.
var reportKinds = []string{SourceGitHub, SourceGitLab, SourceGitea}

// TriggerReport says where a trigger's runs are reported: the host's kind,
// its API's base URL (GitHub's and GitLab's public ones when empty), the
// secret holding the token, and CEL expressions over the delivery for the
// repository (owner/name, or GitLab's project id or path) and the commit.
type TriggerReport struct {
	Kind       string `json:"kind"`
	BaseURL    string `json:"baseURL,omitempty"`
	Token      string `json:"token"`
	Repository string `json:"repository"`
	SHA        string `json:"sha"`
}

// StatusTarget is where one delivery's run is reported: the report with
// its expressions evaluated. TriggerFired keeps it, as the delivery's body
// is not kept.
type StatusTarget struct {
	Kind       string `json:"kind"`
	BaseURL    string `json:"baseURL,omitempty"`
	Token      string `json:"token"`
	Repository string `json:"repository"`
	SHA        string `json:"sha"`
}

// Commit states reported, as the git hosts name them.
const (
	StatusPending = "pending"
	StatusSuccess = "success"
	StatusFailure = "failure"
	StatusError   = "error"
)

// checkReport checks a report's kind, token and base URL; its expressions
// are checked with the trigger's.
func checkReport(r *TriggerReport, add func(error)) {
	if r == nil {
		return
	}
	if !slices.Contains(reportKinds, r.Kind) {
		add(Invalid("report.kind", fmt.Sprintf("must be github, gitlab or gitea, not %q", r.Kind)))
	}
	add(CheckName("report.token", r.Token))
	if r.BaseURL != "" {
		if u, err := url.Parse(r.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add(Invalid("report.baseURL", fmt.Sprintf("%q is not an http or https URL", r.BaseURL)))
		}
	} else if r.Kind == SourceGitea {
		add(Invalid("report.baseURL", "must be the Gitea server's URL: Gitea has no public one"))
	}
	if r.Repository == "" {
		add(Invalid("report.repository", "must be a CEL expression giving the repository (owner/name; GitLab: the project's id or path)"))
	}
	if r.SHA == "" {
		add(Invalid("report.sha", "must be a CEL expression giving the commit to report on"))
	}
}

// StatusTargetOf evaluates the report's expressions against in: where the
// delivery's run is reported. A value that is not a non-empty string is a
// validation error naming the field.
func (t Trigger) StatusTargetOf(exprs TriggerExpressions, in HookInput) (*StatusTarget, error) {
	r := t.Report
	if r == nil {
		return nil, nil
	}
	target := &StatusTarget{Kind: r.Kind, BaseURL: r.BaseURL, Token: r.Token}
	for _, f := range []struct {
		field, expr string
		to          *string
	}{{"report.repository", r.Repository, &target.Repository}, {"report.sha", r.SHA, &target.SHA}} {
		raw, err := exprs.Value(f.expr, in)
		if err != nil {
			return nil, Invalid(f.field, fmt.Sprintf("%q could not be evaluated: %v", f.expr, err))
		}
		if err := json.Unmarshal(raw, f.to); err != nil || strings.TrimSpace(*f.to) == "" {
			return nil, Invalid(f.field, fmt.Sprintf("%q gave %s, not a non-empty string", f.expr, raw))
		}
	}
	return target, nil
}

// CommitStatus is what is reported of a run: its state, a description (at
// most 140 characters, GitHub's limit) and the context, conveyor/{pipeline}.
type CommitStatus struct {
	State       string
	Description string
	Context     string
	RunID       string
}

// StatusOf is the commit status of run as it stands: pending while it has
// not ended, then success, failure (naming the failed step) or error
// (cancelled), with its duration. It is decided from the run, not from the
// event that asked for it, so that an event delivered again or late reports
// what is true now.
func StatusOf(run Run) CommitStatus {
	s := CommitStatus{Context: "conveyor/" + run.Pipeline.Name, RunID: run.ID}
	took := ""
	if run.FinishedAt != nil && !run.StartedAt.IsZero() {
		took = " in " + run.FinishedAt.Sub(run.StartedAt).Round(time.Second).String()
	}
	switch run.Status {
	case RunStatusSucceeded:
		s.State, s.Description = StatusSuccess, "succeeded"+took
	case RunStatusFailed:
		s.State, s.Description = StatusFailure, "failed"+took
		for _, st := range run.Steps {
			if st.Status == StepStatusFailed {
				s.Description = "step " + st.ID + " failed" + took
				break
			}
		}
		if run.Message != "" {
			s.Description += ": " + run.Message
		}
	case RunStatusCancelled:
		s.State, s.Description = StatusError, "cancelled"+took
	default:
		s.State, s.Description = StatusPending, "running"
	}
	if r := []rune(s.Description); len(r) > 140 {
		s.Description = string(r[:139]) + "…"
	}
	return s
}
