package api

import (
	"context"

	"github.com/conveyor/conveyor/domain"
)

// groups holds the concurrency groups one answer read, by name: a page of
// runs queued in one group reads it once.
type groups map[string]domain.ConcurrencyGroup

// withPosition fills in a queued run's place in its concurrency group's
// queue (1: the next to start), from the group as the log has it: only
// queued runs pay for the read, one per group and answer (seen).
func (s *Server) withPosition(ctx context.Context, run domain.Run, seen groups) domain.Run {
	if run.Status != domain.RunStatusQueued || run.Concurrency == nil || s.cmd == nil {
		return run
	}
	g, ok := seen[run.Concurrency.Group]
	if !ok {
		var err error
		if g, err = s.cmd.LoadGroup(ctx, run.Concurrency.Group); err != nil {
			return run // the position is a hint; the run reads without it
		}
		seen[run.Concurrency.Group] = g
	}
	c := *run.Concurrency
	c.Position = g.Position(run.ID)
	run.Concurrency = &c
	return run
}

// concurrencyBody is a pipeline's concurrency as clients send it.
type concurrencyBody struct {
	Group  string `json:"group" maxLength:"1024" doc:"a CEL expression over resource, pipeline and run that gives the group's name, a string; runs whose groups have the same name share its places" example:"\"deploy-\" + resource.spec.env"`
	Limit  *int   `json:"limit,omitempty" doc:"how many runs of the group go on at once, at least 1 (default 1)" example:"1"`
	OnFull string `json:"onFull,omitempty" doc:"what a run does when every place is taken: queue (wait, first in first out; the default), cancel-running (cancel the oldest run of the group and take its place) or skip (end at once, cancelled, its message saying it was skipped)" example:"queue"`
}

// concurrency is the domain's concurrency, nil when none was sent.
func (b *concurrencyBody) concurrency() *domain.Concurrency {
	if b == nil {
		return nil
	}
	return &domain.Concurrency{Group: b.Group, Limit: b.Limit, OnFull: b.OnFull}
}
