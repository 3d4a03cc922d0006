package projections_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/etcdstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/google/go-cmp/cmp"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// history builds a realistic log: definitions, pipelines, resources with
// replaces and a delete, and a run with a result, each event with its log
// sequence.
func history(t *testing.T) []domain.Event {
	t.Helper()
	var events []domain.Event
	n := 0
	cause := func(corr string) domain.Cause {
		n++
		return domain.Cause{EventID: fmt.Sprintf("e%d", n), Time: time.Unix(int64(1e9+n), 0), CorrelationID: corr, CausationID: "c"}
	}
	add := func(es []domain.Event) {
		for _, e := range es {
			e.EventMeta().Sequence = uint64(len(events) + 1)
			events = append(events, e)
		}
	}
	var def domain.Definition
	must(t, def.Create(domain.ResourceDefinition{Name: "build", Schema: []byte(`{}`)}, "d1", cause("")))
	must(t, def.Update(domain.ResourceDefinition{Name: "build", Schema: []byte(`{"type":"object"}`), Version: "2"}, cause("")))
	add(def.Changes())
	var p domain.PipelineAggregate
	must(t, p.Create(domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "a", Driver: "d"}}}, cause("")))
	add(p.Changes())
	for i := range 3 {
		var r domain.ResourceAggregate
		res := domain.Resource{Name: fmt.Sprintf("app-%d", i), Type: "build", Pipeline: "ci", Spec: []byte(`{"n":1}`), Metadata: map[string]string{"team": "x"}}
		must(t, r.Create(res, fmt.Sprintf("r%d", i), cause("run")))
		res.Spec = []byte(`{"n":2}`)
		must(t, r.Replace(res, 1, cause("run2")))
		if i == 2 {
			must(t, r.Delete("build", res.Name, cause("")))
		}
		add(r.Changes())
	}
	var run domain.RunAggregate
	res := domain.Resource{ID: "r0", Name: "app-0", Type: "build", Pipeline: "ci", Spec: []byte(`{}`), Metadata: map[string]string{"version": "2"}}
	must(t, run.Start("6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a11", "update", p.State(), res, 2, cause("")))
	run.Advance(cause(""))
	must(t, run.RecordResult("", domain.DriverResult{Success: true, Message: "ok", Driver: "d"}, cause("")))
	run.Advance(cause(""))
	add(run.Changes())
	return events
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// dump is every key and value under prefix.
func dump(t *testing.T, c *clientv3.Client, prefix string) map[string]string {
	t.Helper()
	resp, err := c.Get(context.Background(), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		out[strings.TrimPrefix(string(kv.Key), prefix)] = string(kv.Value)
	}
	return out
}

// feed projects events in the given order the way a consumer does: an event
// refused with ErrGap is retried after the others.
func feed(t *testing.T, p *projections.Projector, events []domain.Event) {
	t.Helper()
	pending := events
	for round := 0; len(pending) > 0; round++ {
		if round > len(events)+1 {
			t.Fatalf("events never applied: %d left", len(pending))
		}
		var later []domain.Event
		for _, e := range pending {
			err := p.Project(context.Background(), e)
			switch {
			case errors.Is(err, projections.ErrGap):
				later = append(later, e)
			case err != nil:
				t.Fatalf("project %s: %v", e.EventMeta().Type, err)
			}
		}
		pending = later
	}
}

func TestProjectionIsIdempotentAndOrdered(t *testing.T) {
	c := embedtest.Etcd(t)
	events := history(t)

	once := projections.NewProjector(etcdstore.New(c, "/once"))
	feed(t, once, events)
	want := dump(t, c, "/once/")
	if len(want) == 0 {
		t.Fatal("nothing projected")
	}

	twice := projections.NewProjector(etcdstore.New(c, "/twice"))
	feed(t, twice, events)
	feed(t, twice, events)
	if diff := cmp.Diff(want, dump(t, c, "/twice/")); diff != "" {
		t.Errorf("fed twice (-once +twice):\n%s", diff)
	}

	// A projector that remembers nothing finds every guard written already.
	feed(t, projections.NewProjector(etcdstore.New(c, "/once")), events)
	if diff := cmp.Diff(want, dump(t, c, "/once/")); diff != "" {
		t.Errorf("fed again by a fresh projector (-once +again):\n%s", diff)
	}

	for seed := range uint64(5) {
		shuffled := append([]domain.Event(nil), events...)
		rand.New(rand.NewPCG(seed, 1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		prefix := fmt.Sprintf("/shuffled%d", seed)
		feed(t, projections.NewProjector(etcdstore.New(c, prefix)), append(shuffled, shuffled...))
		if diff := cmp.Diff(want, dump(t, c, prefix+"/")); diff != "" {
			t.Errorf("seed %d, out of order and twice (-in order +shuffled):\n%s", seed, diff)
		}
	}
}

func TestProjectionConcurrentAppliersApplyOnce(t *testing.T) {
	c := embedtest.Etcd(t)
	events := history(t)
	store := etcdstore.New(c, "/conc")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			feed(t, projections.NewProjector(store), events)
		}()
	}
	wg.Wait()
	single := etcdstore.New(c, "/single")
	feed(t, projections.NewProjector(single), events)
	if diff := cmp.Diff(dump(t, c, "/single/"), dump(t, c, "/conc/")); diff != "" {
		t.Errorf("8 concurrent appliers (-one +eight):\n%s", diff)
	}
}

func TestReadModelQueries(t *testing.T) {
	c := embedtest.Etcd(t)
	store := etcdstore.New(c, "/q")
	feed(t, projections.NewProjector(store), history(t))
	q := projections.NewReadModel(store)
	ctx := context.Background()

	r, err := q.Resource(ctx, "build", "app-0")
	must(t, err)
	if r.Version() != 2 || r.Metadata["team"] != "x" || r.Metadata["driverresults.d"] == "" {
		t.Errorf("app-0: %+v", r.Resource)
	}
	if _, err := q.Resource(ctx, "build", "app-2"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("deleted app-2: %v, want ErrNotFound", err)
	}
	if vs, _, err := q.ResourceVersions(ctx, "build", "app-2", projections.Page{}); err != nil || len(vs) != 0 {
		t.Errorf("versions of deleted app-2: %v %v", vs, err)
	}
	vs, _, err := q.ResourceVersions(ctx, "build", "app-1", projections.Page{})
	must(t, err)
	if len(vs) != 2 || vs[0].Version() != 1 || vs[1].Version() != 2 {
		t.Errorf("versions of app-1: %+v", vs)
	}
	n, err := q.CountResources(ctx, "build")
	must(t, err)
	if n != 2 {
		t.Errorf("CountResources = %d, want 2", n)
	}
	var names []string
	page := projections.Page{Limit: 1}
	for i := 0; i < 5; i++ {
		rs, next, err := q.Resources(ctx, "", page)
		must(t, err)
		for _, r := range rs {
			names = append(names, r.Name)
		}
		if next == "" {
			break
		}
		page.Continue = next
	}
	sort.Strings(names)
	if diff := cmp.Diff([]string{"app-0", "app-1"}, names); diff != "" {
		t.Errorf("paged resources (-want +got):\n%s", diff)
	}
	runs, _, err := q.Runs(ctx, projections.RunFilter{Resource: "build/app-0", Status: "succeeded"}, projections.Page{})
	must(t, err)
	if len(runs) != 1 || runs[0].Steps[0].Status != domain.StepStatusSucceeded {
		t.Errorf("runs of app-0: %+v", runs)
	}
	if runs, _, _ := q.Runs(ctx, projections.RunFilter{Status: "failed"}, projections.Page{}); len(runs) != 0 {
		t.Errorf("failed runs: %+v", runs)
	}
}
