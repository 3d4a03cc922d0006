package api

import (
	"context"
	"net/http"

	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
)

type logsInput struct {
	ID      string `path:"id" doc:"the Run ID"`
	Driver  string `query:"driver" doc:"only lines of this driver"`
	Step    string `query:"step" doc:"only lines of this step; lines are then numbered in the step's log"`
	Attempt int    `query:"attempt" minimum:"0" doc:"only lines of this attempt of the step (1 for the first try)"`
	After   uint64 `query:"after" doc:"only lines after this sequence (the next page)"`
	Line    int    `query:"line" minimum:"0" doc:"the line number of the line at after (the last line of the previous page), which spares the server counting the lines before it"`
	Limit   int    `query:"limit" minimum:"0" maximum:"1000" doc:"lines per page (default and at most 1000)"`
}

type logsOutput struct {
	Body struct {
		Items []projections.LogLine `json:"items"`
		// Next is the after= of the next page; absent when this page was not full.
		Next uint64 `json:"next,omitempty"`
	}
}

func (s *Server) registerLogs() {
	huma.Register(s.api, s.op(http.MethodGet, "/runs/{id}/logs", "get-run-logs", "The stored log lines of a run, in order",
		"The stored log lines of the run in order, optionally of one driver, step or attempt, a page at a time (`after`). Each line has its number (`line`, from 1) in the run's log, or in the step's log when asked for one step. `GET /runs/{id}/logs/stream` follows them live over WebSocket (docs/api.md).", "runs"),
		func(ctx context.Context, in *logsInput) (*logsOutput, error) {
			if _, err := s.q.Run(ctx, in.ID); err != nil {
				return nil, s.problem(ctx, err)
			}
			limit := in.Limit
			if limit == 0 {
				limit = projections.MaxLimit
			}
			lines, err := s.logs.RunLogs(ctx, projections.LogQuery{RunID: in.ID, Driver: in.Driver, Step: in.Step,
				Attempt: in.Attempt, After: in.After, Limit: limit, Line: in.Line})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &logsOutput{}
			out.Body.Items = lines
			if out.Body.Items == nil {
				out.Body.Items = []projections.LogLine{}
			}
			if len(lines) == limit {
				out.Body.Next = lines[len(lines)-1].Sequence
			}
			return out, nil
		})
}
