package projections_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/etcdstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/google/uuid"
)

// readCounter counts the reads of a store.
type readCounter struct {
	*projections.MemStore
	reads atomic.Int64
}

func (s *readCounter) Get(ctx context.Context, key string) (projections.KV, bool, error) {
	s.reads.Add(1)
	return s.MemStore.Get(ctx, key)
}

func (s *readCounter) List(ctx context.Context, prefix, after string, limit int) ([]projections.KV, bool, error) {
	s.reads.Add(1)
	return s.MemStore.List(ctx, prefix, after, limit)
}

// runLog is a log of one-step runs, kept per run as the event store keeps
// them, projected as it grows.
type runLog struct {
	p      *projections.Projector
	seq    uint64
	events map[string][]domain.Event
	sent   map[string]int // changes of each run projected so far
	runs   map[string]*domain.RunAggregate
	start  time.Time
}

func newRunLog(p func(archive func(context.Context, string) ([]domain.Event, error)) *projections.Projector) *runLog {
	l := &runLog{events: map[string][]domain.Event{}, sent: map[string]int{}, runs: map[string]*domain.RunAggregate{}, start: time.Now()}
	l.p = p(l.archive)
	return l
}

func (l *runLog) archive(_ context.Context, id string) ([]domain.Event, error) {
	return l.events[id], nil
}

func (l *runLog) cause() domain.Cause {
	return domain.Cause{EventID: uuid.NewString(), Time: l.start.Add(time.Duration(l.seq) * time.Second), CorrelationID: "c", CausationID: "c"}
}

// started starts a run and returns its id.
func (l *runLog) started(t *testing.T) string {
	t.Helper()
	pipeline := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "a", Driver: "d"}}}
	res := domain.Resource{ID: "r0", Name: "app", Type: "build", Pipeline: "ci", Spec: []byte(`{}`), Metadata: map[string]string{"version": "1"}}
	run := &domain.RunAggregate{}
	id := uuid.NewString()
	must(t, run.Start(id, "create", pipeline, res, 1, l.cause()))
	run.Advance(l.cause())
	l.runs[id] = run
	l.project(t, id)
	return id
}

// result records the step's result, success or not, and the run's end.
func (l *runLog) result(t *testing.T, id string, success bool) {
	t.Helper()
	run := l.runs[id]
	must(t, run.RecordResult("a", domain.DriverResult{Success: success, Message: "done", Driver: "d"}, l.cause()))
	run.Advance(l.cause())
	l.project(t, id)
}

func (l *runLog) project(t *testing.T, id string) {
	t.Helper()
	changes := l.runs[id].Changes()[l.sent[id]:]
	l.sent[id] += len(changes)
	for _, e := range changes {
		l.seq++
		e.EventMeta().Sequence = l.seq
		l.events[id] = append(l.events[id], e)
		must(t, l.p.Project(context.Background(), e))
	}
}

// keys are the keys of store under prefix.
func keys(t *testing.T, store projections.Store, prefix string) []string {
	t.Helper()
	kvs, _, err := store.List(context.Background(), prefix, "", 1000)
	must(t, err)
	var out []string
	for _, kv := range kvs {
		out = append(out, kv.Key)
	}
	return out
}

// keysOf are the keys of store that hold id.
func keysOf(t *testing.T, store projections.Store, id string) []string {
	t.Helper()
	var out []string
	for _, k := range keys(t, store, "") {
		if strings.Contains(k, id) {
			out = append(out, k)
		}
	}
	kvs, _, err := store.List(context.Background(), "run-ended/", "", 1000)
	must(t, err)
	for _, kv := range kvs {
		if strings.Contains(string(kv.Value), id) {
			out = append(out, kv.Key)
		}
	}
	return out
}

// The read models keep the runs in flight and the last three that ended
// (the bound given), and nothing of the others: not the run, not an index
// entry. A run let go of is still read by id, from the log; a retry brings
// it back, indexed as it was, and its second end counts as the latest.
func TestTheReadModelsKeepTheLastEndedRunsAndReadOthersFromTheLog(t *testing.T) {
	ctx := context.Background()
	store := &readCounter{MemStore: projections.NewMemStore()}
	l := newRunLog(func(archive func(context.Context, string) ([]domain.Event, error)) *projections.Projector {
		return projections.NewProjector(store).Keep(projections.Retention{EndedRuns: 3, Archive: archive})
	})
	var ended []string
	for i := range 10 {
		if i == 5 {
			store.reads.Store(0)
		}
		id := l.started(t)
		l.result(t, id, i != 0) // the first fails
		ended = append(ended, id)
	}
	// Numbering a run's end and letting go of another read nothing: what
	// it needs, the projector wrote itself.
	if n := store.reads.Load(); n != 0 {
		t.Errorf("five runs that ended, each letting go of one, read the store %d times, want 0", n)
	}
	waiting := l.started(t)

	q := projections.NewReadModel(store)
	runs, _, err := q.Runs(ctx, projections.RunFilter{}, projections.Page{})
	must(t, err)
	if got, want := ids(runs), []string{waiting, ended[9], ended[8], ended[7]}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("runs listed = %v, want the one in flight and the last three ended %v", got, want)
	}
	if got := keys(t, store, "runs/"); len(got) != 4 {
		t.Errorf("runs/ holds %d runs, want 4: %v", len(got), got)
	}
	for _, id := range ended[:7] {
		if k := keysOf(t, store, id); len(k) != 0 {
			t.Errorf("run %s, let go of, still has keys %v", id, k)
		}
	}
	// A late result for a run let go of (ignored: the run has ended) leaves
	// the read models as they were: nothing comes back, nothing else goes.
	before := keys(t, store, "")
	l.result(t, ended[1], true)
	if after := keys(t, store, ""); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("a late result for a run let go of changed the read models:\nbefore %v\nafter  %v", before, after)
	}
	if _, err := q.Run(ctx, ended[0]); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("a run let go of, read without the log = %v, want not found", err)
	}
	q.ReadArchived(l.archive)
	old, err := q.Run(ctx, ended[0])
	must(t, err)
	if old.Status != domain.RunStatusFailed || old.ID != ended[0] || old.Sequence != l.events[ended[0]][len(l.events[ended[0]])-1].EventMeta().Sequence {
		t.Errorf("a run let go of, read from the log = %s %s at %d, want %s failed", old.ID, old.Status, old.Sequence, ended[0])
	}
	if _, err := q.Run(ctx, uuid.NewString()); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("a run never made = %v, want not found", err)
	}

	must(t, l.runs[ended[0]].Retry(l.cause()))
	l.runs[ended[0]].Advance(l.cause())
	l.project(t, ended[0])
	back, err := projections.NewReadModel(store).Run(ctx, ended[0])
	must(t, err)
	if back.Status != domain.RunStatusRunning {
		t.Fatalf("a retried run let go of is %s in the read models, want running", back.Status)
	}
	running, _, err := q.Runs(ctx, projections.RunFilter{Status: domain.RunStatusRunning}, projections.Page{})
	must(t, err)
	if got := ids(running); len(got) != 2 || !slices.Contains(got, ended[0]) {
		t.Errorf("running runs = %v, want the retried one and %s", got, waiting)
	}
	l.result(t, ended[0], true)
	runs, _, err = q.Runs(ctx, projections.RunFilter{Status: domain.RunStatusSucceeded}, projections.Page{})
	must(t, err)
	if got := ids(runs); len(got) != 3 || !slices.Contains(got, ended[0]) || slices.Contains(got, ended[7]) {
		t.Errorf("succeeded runs kept = %v, want the retried one and the two that ended before it (%s let go of)", got, ended[7])
	}
}

// Read models of the layout before retention kept every run: the first
// runner of this version to lead numbers the ended runs in the order they
// ended and lets go of all but the last ones, and goes on from there.
func TestAnUpgradeLetsGoOfTheEndedRunsBeyondTheRetention(t *testing.T) {
	ctx := context.Background()
	c := embedtest.Etcd(t)
	store := etcdstore.New(c, "/upgrade")
	log := &memLog{}
	l := newRunLog(func(func(context.Context, string) ([]domain.Event, error)) *projections.Projector {
		return projections.NewProjector(projections.NewMemStore())
	})
	var ended []string
	for range 12 {
		id := l.started(t)
		l.result(t, id, true)
		ended = append(ended, id)
	}
	waiting := l.started(t)
	var all []domain.Event
	for _, events := range l.events {
		all = append(all, events...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].EventMeta().Sequence < all[j].EventMeta().Sequence })
	for _, e := range all {
		log.append(t, e)
	}
	runUntil(t, projections.RunnerConfig{Log: log, Store: store}, log.last())
	// As the last layout left them: no numbers, every run kept.
	_, _, err := store.Commit(ctx, nil, []projections.Op{
		{Key: "run-ended/", Delete: true, Prefix: true}, {Key: "checkpoints/runs-ended", Delete: true},
		{Key: projections.LayoutKey, Value: []byte("2")}})
	must(t, err)

	runUntil(t, projections.RunnerConfig{Log: log, Store: store, Retention: projections.Retention{EndedRuns: 4, Archive: l.archive}}, log.last())
	runs, _, err := projections.NewReadModel(store).Runs(ctx, projections.RunFilter{}, projections.Page{})
	must(t, err)
	if got, want := ids(runs), []string{waiting, ended[11], ended[10], ended[9], ended[8]}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("runs after the upgrade = %v, want the one in flight and the last four ended %v", got, want)
	}
	for _, id := range ended[:8] {
		if k := keysOf(t, store, id); len(k) != 0 {
			t.Errorf("run %s, let go of by the upgrade, still has keys %v", id, k)
		}
	}
	if got := keys(t, store, "run-ended/"); len(got) != 4 || !strings.HasSuffix(got[0], "09") {
		t.Errorf("ended runs numbered %v, want 9 to 12", got)
	}

	// The next run to end lets go of the oldest kept.
	before := len(l.events[waiting])
	l.result(t, waiting, true)
	for _, e := range l.events[waiting][before:] {
		log.append(t, e)
	}
	runUntil(t, projections.RunnerConfig{Log: log, Store: store, Retention: projections.Retention{EndedRuns: 4, Archive: l.archive}}, log.last())
	if k := keysOf(t, store, ended[8]); len(k) != 0 {
		t.Errorf("run %s is still kept after a fifth ended: %v", ended[8], k)
	}
}
