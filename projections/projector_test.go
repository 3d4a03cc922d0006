package projections_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
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

// feed projects events in log order, one transaction each, as a rebuild does.
func feed(t *testing.T, p *projections.Projector, events []domain.Event) {
	t.Helper()
	for _, e := range events {
		if err := p.Project(context.Background(), e); err != nil {
			t.Fatalf("project %s: %v", e.EventMeta().Type, err)
		}
	}
}

// historyReadModel projects history into etcd under prefix and returns
// the client and the queries over it.
func historyReadModel(t *testing.T, prefix string) (*clientv3.Client, *projections.ReadModel) {
	t.Helper()
	c := embedtest.Etcd(t)
	store := etcdstore.New(c, prefix)
	feed(t, projections.NewProjector(store), history(t))
	return c, projections.NewReadModel(store)
}

func TestReadModelQueries(t *testing.T) {
	_, q := historyReadModel(t, "/q")
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

// A resource's current version is its own key; only replaced versions
// have keys of their own. Paged one at a time, the versions still come
// oldest first, each once, the current one last; a read model written when
// the current version had a version key too lists it once.
func TestResourceVersionsPagedAndOnce(t *testing.T) {
	c, q := historyReadModel(t, "/v")
	ctx := context.Background()

	pageAll := func() []int {
		var got []int
		page := projections.Page{Limit: 1}
		for range 5 {
			vs, next, err := q.ResourceVersions(ctx, "build", "app-1", page)
			must(t, err)
			for _, v := range vs {
				got = append(got, v.Version())
			}
			if next == "" {
				return got
			}
			page.Continue = next
		}
		t.Fatalf("versions never end: %v", got)
		return nil
	}
	if diff := cmp.Diff([]int{1, 2}, pageAll()); diff != "" {
		t.Errorf("versions of app-1 a page at a time (-want +got):\n%s", diff)
	}
	if keys, err := c.Get(ctx, "/v/resource-versions/build/app-1/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil || keys.Count != 1 {
		t.Errorf("version keys of app-1: %v %v, want only the replaced version's", keys, err)
	}
	for _, v := range []int{1, 2} {
		r, err := q.ResourceVersion(ctx, "build", "app-1", v)
		if err != nil || r.Version() != v {
			t.Errorf("version %d: %+v %v", v, r.Resource, err)
		}
	}
	if _, err := q.ResourceVersion(ctx, "build", "app-1", 3); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("version 3: %v, want ErrNotFound", err)
	}

	current, err := c.Get(ctx, "/v/resources/build/app-1")
	must(t, err)
	if len(current.Kvs) != 1 {
		t.Fatalf("the resource's key: %v", current.Kvs)
	}
	_, err = c.Put(ctx, fmt.Sprintf("/v/resource-versions/build/app-1/%020d", 2), string(current.Kvs[0].Value))
	must(t, err)
	if diff := cmp.Diff([]int{1, 2}, pageAll()); diff != "" {
		t.Errorf("versions with the current one under its version key too (-want +got):\n%s", diff)
	}
}
