package api

import (
	"context"

	"github.com/conveyor/conveyor/domain"
)

// withPosition fills in a queued run's place in its concurrency group's
// queue (1: the next to start), from the group as the log has it: only
// queued runs pay for the read, one group each.
func (s *Server) withPosition(ctx context.Context, run domain.Run) domain.Run {
	if run.Status != domain.RunStatusQueued || run.Concurrency == nil || s.cmd == nil {
		return run
	}
	g, err := s.cmd.LoadGroup(ctx, run.Concurrency.Group)
	if err != nil {
		return run // the position is a hint; the run reads without it
	}
	c := *run.Concurrency
	c.Position = g.Position(run.ID)
	run.Concurrency = &c
	return run
}
