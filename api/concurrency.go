package api

import (
	"context"

	"github.com/conveyor/conveyor/domain"
)

// groups holds the concurrency groups one answer read, by name: a page of
// runs queued in one group reads it once.
type groups map[string]domain.ConcurrencyGroup

// withPosition fills in a queued run's place in its concurrency group's
// queue (1: the next to start), and each queued step's in its group's,
// from the group as the log has it: only queued runs and steps pay for the
// read, one per group and answer (seen).
func (s *Server) withPosition(ctx context.Context, run domain.Run, seen groups) domain.Run {
	if s.cmd == nil {
		return run
	}
	if run.Status == domain.RunStatusQueued && run.Concurrency != nil {
		if g, ok := s.group(ctx, run.Concurrency.Group, seen); ok {
			c := *run.Concurrency
			c.Position = g.Position(run.ID)
			run.Concurrency = &c
		}
	}
	cloned := false
	for i, st := range run.Steps {
		if st.Status != domain.StepStatusQueued || st.Concurrency == nil {
			continue
		}
		g, ok := s.group(ctx, st.Concurrency.Group, seen)
		if !ok {
			continue
		}
		if !cloned {
			run, cloned = run.Clone(), true
		}
		c := *st.Concurrency
		c.Position = g.Position(domain.Holder{RunID: run.ID, Step: st.ID}.Key())
		run.Steps[i].Concurrency = &c
	}
	return run
}

// group is the concurrency group named name, read once per answer (seen);
// false when it cannot be read (the position is a hint: the run reads
// without it).
func (s *Server) group(ctx context.Context, name string, seen groups) (domain.ConcurrencyGroup, bool) {
	if g, ok := seen[name]; ok {
		return g, true
	}
	g, err := s.cmd.LoadGroup(ctx, name)
	if err != nil {
		return g, false
	}
	seen[name] = g
	return g, true
}

// concurrencyBody is a pipeline's concurrency as clients send it.
type concurrencyBody struct {
	Group  string `json:"group" maxLength:"1024" doc:"a CEL expression over resource, pipeline and run that gives the group's name, a string; runs whose groups have the same name share its places" example:"\"deploy-\" + resource.spec.env"`
	Limit  *int   `json:"limit,omitempty" doc:"how many runs of the group go on at once, at least 1 (default 1)" example:"1"`
	OnFull string `json:"onFull,omitempty" doc:"what a run does when every place is taken: queue (wait, first in first out; the default), cancel-running (cancel the oldest run of the group and take its place) or skip (end at once, cancelled, its message saying it was skipped)" example:"queue"`
}

// stepConcurrencyBody is a step's concurrency as clients send it.
type stepConcurrencyBody struct {
	Group  string `json:"group" maxLength:"1024" doc:"a CEL expression over what the step's condition sees (resource, pipeline, run, results, matrix) that gives the group's name, a string; steps whose groups have the same name share its places" example:"\"deploy-\" + resource.spec.env"`
	Limit  *int   `json:"limit,omitempty" doc:"how many steps of the group run at once, at least 1 (default 1)" example:"1"`
	OnFull string `json:"onFull,omitempty" doc:"what a step does when every place is taken: queue (wait, first in first out; the default), cancel-running (cancel the run of the oldest step that holds a place and take it) or skip (the step is skipped, and the steps that need it)" example:"queue"`
}

// concurrency is the domain's concurrency, nil when none was sent.
func (b *stepConcurrencyBody) concurrency() *domain.Concurrency {
	if b == nil {
		return nil
	}
	return &domain.Concurrency{Group: b.Group, Limit: b.Limit, OnFull: b.OnFull}
}

// concurrency is the domain's concurrency, nil when none was sent.
func (b *concurrencyBody) concurrency() *domain.Concurrency {
	if b == nil {
		return nil
	}
	return &domain.Concurrency{Group: b.Group, Limit: b.Limit, OnFull: b.OnFull}
}
