package api

import (
	"context"
	"net/http"
	"time"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
)

type runPath struct {
	ID string `path:"id" doc:"the Run ID, a UUID; any other id is a run that does not exist (404)"`
}

type runOutput struct {
	Body domain.Run
}

type runsInput struct {
	Resource string    `query:"resource" doc:"only runs of this resource: TYPE or TYPE/NAME"`
	Pipeline string    `query:"pipeline" doc:"only runs of this pipeline"`
	Status   string    `query:"status" enum:"queued,running,succeeded,failed,cancelled" doc:"only runs in this state"`
	Since    time.Time `query:"since" doc:"only runs started at or after this time (RFC 3339)"`
	Until    time.Time `query:"until" doc:"only runs started at or before this time (RFC 3339)"`
	IDPrefix string    `query:"idPrefix" doc:"only runs whose Run ID starts with this (at least 6 characters; the UI and the CLI show 8), in Run ID order; not with the other filters. Finds the runs the read models keep"`
	PageInput
}

func (s *Server) registerRuns() {
	const tag = "runs"
	huma.Register(s.api, s.op(http.MethodGet, "/runs", "list-runs", "List runs, newest first",
		"Runs, newest first, optionally only those of a resource, a pipeline, a status or a time span, a page at a time.", tag),
		func(ctx context.Context, in *runsInput) (*listOutput[domain.Run], error) {
			filter := projections.RunFilter{Resource: in.Resource, Pipeline: in.Pipeline, Status: in.Status, Since: in.Since, Until: in.Until}
			var views []projections.RunView
			var next string
			var err error
			switch {
			case in.IDPrefix != "" && filter != (projections.RunFilter{}):
				err = domain.Invalid("idPrefix", "is not used with other filters")
			case in.IDPrefix != "":
				views, next, err = s.q.RunsByIDPrefix(ctx, in.IDPrefix, in.page())
			default:
				views, next, err = s.q.Runs(ctx, filter, in.page())
			}
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			seen := groups{}
			return mapList(views, next, func(v projections.RunView) domain.Run { return s.withWaiting(ctx, v.Run, seen) }), nil
		})

	huma.Register(s.api, s.op(http.MethodGet, "/runs/{id}", "get-run",
		"A run and each of its steps; with at, as it was then, rebuilt from the event log",
		"A run with the state of each of its steps, and the commit statuses of it that could not be reported to the git host (statusReports). With `at`, the run as it was at that time or log position, rebuilt from the event log.", tag),
		func(ctx context.Context, in *struct {
			ID string `path:"id" doc:"the Run ID, a UUID; any other id is a run that does not exist (404)"`
			At string `query:"at" doc:"answer the state as it was then, rebuilt from the event log: an RFC 3339 time or a log position (a positive integer: the stream sequence GET /events shows)" example:"42"`
		}) (*runOutput, error) {
			if in.At != "" {
				at, err := moment(in.At)
				if err != nil {
					return nil, err
				}
				run, err := s.runAt(ctx, in.ID, at)
				if err != nil {
					return nil, err
				}
				return &runOutput{Body: run}, nil
			}
			v, err := s.q.Run(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			run := s.withWaiting(ctx, v.Run, groups{})
			if run.StatusReports, err = s.q.StatusReports(ctx, in.ID); err != nil {
				return nil, s.problem(ctx, err)
			}
			return &runOutput{Body: run}, nil
		})

	huma.Register(s.api, s.op(http.MethodPost, "/runs/{id}/cancel", "cancel-run", "Cancel a running run: no further step runs",
		"Records the run as cancelled: no further step is dispatched. A run that has already ended is a 409.", tag),
		func(ctx context.Context, in *runPath) (*runOutput, error) {
			run, err := s.cmd.CancelRun(ctx, commands.CancelRun{RunID: in.ID, Reason: "cancelled through the API"})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &runOutput{Body: run}, nil
		})

	huma.Register(s.api, s.op(http.MethodPost, "/runs/{id}/retry", "retry-run",
		"Resume a failed run from its failed step as a new attempt, keeping earlier results",
		"Resumes a failed run from its failed step as a new attempt, keeping the results of the steps before it. A run that has not failed is a 409.", tag),
		func(ctx context.Context, in *runPath) (*runOutput, error) {
			run, err := s.cmd.RetryRun(ctx, commands.RetryRun{RunID: in.ID})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &runOutput{Body: run}, nil
		})
}
