package domain_test

import (
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
)

func TestCheckTriggerReport(t *testing.T) {
	report := func() *domain.TriggerReport {
		return &domain.TriggerReport{Kind: "github", Token: "gh-status", Repository: "body.repository.full_name", SHA: "body.after"}
	}
	tr := githubTrigger()
	tr.Report = report()
	if err := domain.CheckTrigger(tr); err != nil {
		t.Errorf("a valid report: %v", err)
	}
	sched := scheduleTrigger()
	sched.Report = report()
	if problems, _ := domain.AsValidation(domain.CheckTrigger(sched)); len(problems) != 1 || problems[0].Field != "report" {
		t.Errorf("a schedule that reports: %v, want a problem with report", problems)
	}
	for name, tc := range map[string]struct {
		change func(*domain.TriggerReport)
		field  string
	}{
		"an unknown kind":       {func(r *domain.TriggerReport) { r.Kind = "bitbucket" }, "report.kind"},
		"no token":              {func(r *domain.TriggerReport) { r.Token = "" }, "report.token"},
		"a base URL not http":   {func(r *domain.TriggerReport) { r.BaseURL = "ftp://git.example.com" }, "report.baseURL"},
		"gitea without its URL": {func(r *domain.TriggerReport) { r.Kind = "gitea" }, "report.baseURL"},
		"no repository":         {func(r *domain.TriggerReport) { r.Repository = "" }, "report.repository"},
		"no commit":             {func(r *domain.TriggerReport) { r.SHA = "" }, "report.sha"},
	} {
		tr := githubTrigger()
		tr.Report = report()
		tc.change(tr.Report)
		problems, ok := domain.AsValidation(domain.CheckTrigger(tr))
		if !ok || len(problems) != 1 || problems[0].Field != tc.field {
			t.Errorf("%s: %v, want one problem with %s", name, problems, tc.field)
		}
	}
}

func TestStatusOfARun(t *testing.T) {
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	end := start.Add(83 * time.Second)
	run := func(status string, steps ...domain.StepState) domain.Run {
		r := domain.Run{ID: "r1", Status: status, Pipeline: domain.Pipeline{Name: "ci"}, StartedAt: start, Steps: steps}
		if status != domain.RunStatusRunning {
			r.FinishedAt = &end
		}
		return r
	}
	failed := run(domain.RunStatusFailed, domain.StepState{ID: "compile", Status: domain.StepStatusSucceeded},
		domain.StepState{ID: "upload", Status: domain.StepStatusFailed})
	failed.Message = "no space left"
	for _, tc := range []struct {
		run                domain.Run
		state, description string
	}{
		{run(domain.RunStatusRunning), "pending", "running"},
		{run(domain.RunStatusSucceeded), "success", "succeeded in 1m23s"},
		{failed, "failure", "step upload failed in 1m23s: no space left"},
		{run(domain.RunStatusCancelled), "error", "cancelled in 1m23s"},
	} {
		got := domain.StatusOf(tc.run)
		if got.State != tc.state || got.Description != tc.description || got.Context != "conveyor/ci" || got.RunID != "r1" {
			t.Errorf("%s: %+v, want %s %q in conveyor/ci", tc.run.Status, got, tc.state, tc.description)
		}
	}
}
