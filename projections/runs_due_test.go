package projections_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/google/uuid"
)

// countingStore counts the reads of a store: what a query costs, without
// timing it.
type countingStore struct {
	*projections.MemStore
	gets, listed atomic.Int64 // runs read one by one; keys listed
}

func (s *countingStore) Get(ctx context.Context, key string) (projections.KV, bool, error) {
	if strings.HasPrefix(key, "runs/") {
		s.gets.Add(1)
	}
	return s.MemStore.Get(ctx, key)
}

func (s *countingStore) List(ctx context.Context, prefix, after string, limit int) ([]projections.KV, bool, error) {
	kvs, more, err := s.MemStore.List(ctx, prefix, after, limit)
	s.listed.Add(int64(len(kvs)))
	return kvs, more, err
}

func (s *countingStore) reset() { s.gets.Store(0); s.listed.Store(0) }

// runHistory projects runs of a one-step pipeline into p, one log position
// after another.
type runHistory struct {
	p   *projections.Projector
	seq uint64
}

// run starts a run at at, with the step's timeout, finished when asked, and
// returns its id and aggregate.
func (h *runHistory) run(t *testing.T, timeout string, finish bool, at time.Time) (string, *domain.RunAggregate) {
	t.Helper()
	pipeline := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "a", Driver: "d", Timeout: timeout}}}
	res := domain.Resource{ID: "r0", Name: "app", Type: "build", Pipeline: "ci", Spec: []byte(`{}`), Metadata: map[string]string{"version": "1"}}
	cause := domain.Cause{EventID: uuid.NewString(), Time: at, CorrelationID: "c", CausationID: "c"}
	var run domain.RunAggregate
	id := uuid.NewString()
	must(t, run.Start(id, "create", pipeline, res, 1, cause))
	run.Advance(cause)
	if finish {
		must(t, run.RecordResult("a", domain.DriverResult{Success: true, Message: "ok", Driver: "d"}, cause))
		run.Advance(cause)
	}
	h.project(t, &run)
	return id, &run
}

func (h *runHistory) project(t *testing.T, run *domain.RunAggregate) {
	t.Helper()
	for _, e := range run.Changes() {
		h.seq++
		e.EventMeta().Sequence = h.seq
		must(t, h.p.Project(context.Background(), e))
	}
}

// The engine's timers find the runs due without reading one finished run:
// with 3,000 finished runs, a run waiting for a driver without a timeout,
// and one whose step times out in a minute, asking for the runs due in the
// next hour lists one index key and reads one run. The running runs are
// listed from the status index, reading only them. When the timed run ends,
// it leaves both the deadline index and the running ones.
func TestRunsDueReadNoFinishedRun(t *testing.T) {
	ctx := context.Background()
	store := &countingStore{MemStore: projections.NewMemStore()}
	h := &runHistory{p: projections.NewProjector(store)}
	start := time.Unix(1.7e9, 0)
	for i := range 3000 {
		h.run(t, "", true, start.Add(time.Duration(i)*time.Second))
	}
	waiting, _ := h.run(t, "", false, start.Add(time.Hour))
	timed, timedRun := h.run(t, "1m", false, start.Add(time.Hour+time.Second))
	q := projections.NewReadModel(store)

	store.reset()
	due, next, err := q.RunsDue(ctx, start.Add(2*time.Hour), projections.Page{})
	must(t, err)
	if len(due) != 1 || due[0].ID != timed || next != "" {
		t.Fatalf("runs due: %d (%v, next %q), want only the timed run %s", len(due), ids(due), next, timed)
	}
	if gets, listed := store.gets.Load(), store.listed.Load(); gets != 1 || listed != 1 {
		t.Errorf("finding the runs due read %d runs and listed %d keys, want 1 and 1", gets, listed)
	}
	store.reset()
	due, _, err = q.RunsDue(ctx, start.Add(time.Hour+time.Second+59*time.Second), projections.Page{})
	must(t, err)
	if len(due) != 0 {
		t.Errorf("runs due a second before the timeout: %v, want none", ids(due))
	}

	store.reset()
	running, _, err := q.Runs(ctx, projections.RunFilter{Status: domain.RunStatusRunning}, projections.Page{})
	must(t, err)
	if got := ids(running); len(got) != 2 || got[0] != timed || got[1] != waiting {
		t.Errorf("running runs %v, want %v newest first", got, []string{timed, waiting})
	}
	if gets := store.gets.Load(); gets != 2 {
		t.Errorf("listing the running runs read %d runs, want 2", gets)
	}

	// The timeout passes: the run fails and leaves both indexes.
	timedRun.Advance(domain.Cause{EventID: uuid.NewString(), Time: start.Add(2 * time.Hour), CorrelationID: "c", CausationID: "timer"})
	h.project(t, timedRun)
	if st := timedRun.State().Status; st != domain.RunStatusFailed {
		t.Fatalf("the timed run is %s after its timeout, want failed", st)
	}
	due, _, err = q.RunsDue(ctx, start.Add(24*time.Hour), projections.Page{})
	must(t, err)
	running, _, err2 := q.Runs(ctx, projections.RunFilter{Status: domain.RunStatusRunning}, projections.Page{})
	must(t, err2)
	failed, _, err3 := q.Runs(ctx, projections.RunFilter{Status: domain.RunStatusFailed}, projections.Page{})
	must(t, err3)
	if len(due) != 0 || len(running) != 1 || len(failed) != 1 || failed[0].ID != timed {
		t.Errorf("after the timeout: due %v, running %v, failed %v; want none, the waiting run, the timed run", ids(due), ids(running), ids(failed))
	}
	succeeded, next, err := q.Runs(ctx, projections.RunFilter{Status: domain.RunStatusSucceeded}, projections.Page{Limit: 1000})
	must(t, err)
	if len(succeeded) != 1000 || next == "" {
		t.Errorf("a page of succeeded runs holds %d runs (next %q), want a full page of 1000 and more", len(succeeded), next)
	}
}

func ids(runs []projections.RunView) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

// What the projector remembers follows the runs in flight: after 3,000
// finished runs it holds none of them (nor more than a few other values),
// and after 3,000 runs still going it holds no more than its bound.
func TestTheProjectorRemembersRunsInFlightOnlyAndWithinItsBound(t *testing.T) {
	p := projections.NewProjector(projections.NewMemStore())
	h := &runHistory{p: p}
	start := time.Unix(1.7e9, 0)
	for i := range 3000 {
		h.run(t, "", true, start.Add(time.Duration(i)*time.Second))
	}
	if n := p.Remembered(); n > 10 {
		t.Errorf("after 3,000 finished runs the projector remembers %d values, want none of the runs", n)
	}
	for i := range 3000 {
		h.run(t, "", false, start.Add(time.Hour+time.Duration(i)*time.Second))
	}
	if n, bound := p.Remembered(), projections.KnownLimit; n > bound || n < bound/2 {
		t.Errorf("after 3,000 runs in flight the projector remembers %d values, want at most its bound, %d (and most of it used)", n, bound)
	}
}
