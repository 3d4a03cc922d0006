package projections_test

import (
	"context"
	"testing"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/google/uuid"
)

// reportFailed projects the version-th StatusReportFailed of run id, and
// returns it.
func (l *runLog) reportFailed(t *testing.T, id string, version uint64, status string) *domain.StatusReportFailed {
	t.Helper()
	l.seq++
	c := l.cause()
	e := &domain.StatusReportFailed{Meta: domain.Meta{ID: c.EventID, Type: domain.TypeStatusReportFailed, Aggregate: domain.AggregateReport,
		AggregateID: id, Version: version, Time: c.Time, Sequence: l.seq}, Trigger: "app-push", Status: status, Message: "401 Bad credentials", Attempts: 1}
	must(t, l.p.Project(context.Background(), e))
	return e
}

// A run's statuses given up are in its read model, in order, each once
// however often its event comes; they are let go of with the run, and one
// that comes for a run let go of writes nothing.
func TestARunsStatusesGivenUpAreKeptWithIt(t *testing.T) {
	ctx := context.Background()
	store := projections.NewMemStore()
	l := newRunLog(func(archive func(context.Context, string) ([]domain.Event, error)) *projections.Projector {
		return projections.NewProjector(store).Keep(projections.Retention{EndedRuns: 1, Archive: archive})
	})
	id := l.started(t)
	l.reportFailed(t, id, 1, domain.StatusPending)
	l.result(t, id, true)
	second := l.reportFailed(t, id, 2, domain.StatusSuccess)
	must(t, l.p.Project(ctx, second)) // delivered again

	q := projections.NewReadModel(store)
	got, err := q.StatusReports(ctx, id)
	must(t, err)
	if len(got) != 2 || got[0].Status != domain.StatusPending || got[1].Status != domain.StatusSuccess ||
		got[1].Message != "401 Bad credentials" || got[1].Attempts != 1 || got[1].Trigger != "app-push" || !got[1].At.Equal(second.Time) {
		t.Fatalf("statuses given up: %+v, want pending then success, once each", got)
	}
	if none, err := q.StatusReports(ctx, uuid.NewString()); err != nil || len(none) != 0 {
		t.Errorf("a run with none: %+v, %v", none, err)
	}

	next := l.started(t)
	l.result(t, next, true) // the read models keep one ended run: id is let go of
	if k := keysOf(t, store, id); len(k) != 0 {
		t.Errorf("keys of a run let go of: %v", k)
	}
	l.reportFailed(t, id, 3, domain.StatusSuccess)
	if k := keysOf(t, store, id); len(k) != 0 {
		t.Errorf("a status given up for a run let go of wrote %v", k)
	}
}
