package api

import (
	"context"
	"net/http"

	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
)

type logsInput struct {
	ID     string `path:"id" doc:"the Run ID"`
	Driver string `query:"driver" doc:"only lines of this driver"`
	Step   string `query:"step" doc:"only lines of this step"`
	After  uint64 `query:"after" doc:"only lines after this sequence (the next page)"`
	Limit  int    `query:"limit" minimum:"0" maximum:"1000" doc:"lines per page (default and at most 1000)"`
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
		"The stored log lines of the run in order, optionally of one driver or step, a page at a time (`after`). `GET /runs/{id}/logs/stream` follows them live over WebSocket (docs/api.md).", "runs"),
		func(ctx context.Context, in *logsInput) (*logsOutput, error) {
			if _, err := s.q.Run(ctx, in.ID); err != nil {
				return nil, s.problem(ctx, err)
			}
			limit := in.Limit
			if limit == 0 {
				limit = projections.MaxLimit
			}
			lines, err := s.logs.RunLogs(ctx, projections.LogQuery{RunID: in.ID, Driver: in.Driver, Step: in.Step, After: in.After, Limit: limit})
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
