package api

import (
	"context"
	"fmt"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/sync/errgroup"
)

// moment is the moment that the time-travel parameter at of a read names;
// a 422 stating the accepted forms when it is neither.
func moment(at string) (projections.Moment, error) {
	m, err := projections.ParseMoment(at)
	if err != nil {
		return m, huma.Error422UnprocessableEntity("at "+err.Error(),
			&huma.ErrorDetail{Location: "query.at", Message: err.Error(), Value: at})
	}
	return m, nil
}

// runLoads is how many runs' events resourceAt reads from the log at once.
const runLoads = 8

// resourceAt rebuilds the resource typ/name as it was at moment at from the
// event log: its own events, and the events of each of its runs (found in
// the read model's run index) that belong to the same incarnation and had
// started by then, for the driver results its metadata held. The cost is one
// log read for the resource, one read-model read per run the index lists
// under its name, and one log read per run of this incarnation started by
// then.
func (s *Server) resourceAt(ctx context.Context, typ, name string, at projections.Moment) (domain.Resource, error) {
	key := domain.ResourceKey(typ, name)
	events, err := s.events.Load(ctx, domain.AggregateResource, key)
	if err != nil {
		return domain.Resource{}, s.problem(ctx, err)
	}
	res, ok := projections.ResourceAt(events, nil, at)
	if !ok {
		return domain.Resource{}, huma.Error404NotFound(fmt.Sprintf("resource %q did not exist at %s", key, at))
	}
	runs, err := s.runsOfResource(ctx, key, res.ID, events, at)
	if err != nil {
		return domain.Resource{}, s.problem(ctx, err)
	}
	res, _ = projections.ResourceAt(events, runs, at)
	return res, nil
}

// runsOfResource loads the events of every run of the resource with id that
// the resource event starting it (one of events) had been recorded by at.
func (s *Server) runsOfResource(ctx context.Context, key, id string, events []domain.Event, at projections.Moment) ([][]domain.Event, error) {
	startedBy := map[uint64]bool{} // resource event version: recorded by at
	included := true               // the prefix of events that at includes, as the fold reads it
	for _, e := range events {
		included = included && at.Includes(e)
		startedBy[e.EventMeta().Version] = included
	}
	var ids []string
	page := projections.Page{Limit: projections.MaxLimit}
	for {
		views, next, err := s.q.Runs(ctx, projections.RunFilter{Resource: key}, page)
		if err != nil {
			return nil, err
		}
		for _, v := range views {
			if v.Resource.ID == id && startedBy[v.ResourceEventVersion] {
				ids = append(ids, v.ID)
			}
		}
		if next == "" {
			break
		}
		page.Continue = next
	}
	runs := make([][]domain.Event, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runLoads)
	for i, runID := range ids {
		g.Go(func() error {
			var err error
			runs[i], err = s.events.Load(gctx, domain.AggregateRun, runID)
			return err
		})
	}
	return runs, g.Wait()
}

// runAt rebuilds run id as it was at moment at from its events.
func (s *Server) runAt(ctx context.Context, id string, at projections.Moment) (domain.Run, error) {
	events, err := s.events.Load(ctx, domain.AggregateRun, id)
	if err != nil {
		return domain.Run{}, s.problem(ctx, err)
	}
	run, ok := projections.RunAt(events, at)
	if !ok {
		return domain.Run{}, huma.Error404NotFound(fmt.Sprintf("run %q did not exist at %s", id, at))
	}
	return run, nil
}
