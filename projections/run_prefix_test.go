package projections_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/etcdstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
)

// TestRunsByIDPrefix: a short Run ID finds the runs that start with it,
// and only those, a page at a time; a prefix under four characters is
// refused.
func TestRunsByIDPrefix(t *testing.T) {
	store := etcdstore.New(embedtest.Etcd(t), "/prefix")
	p := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "a", Driver: "d"}}}
	res := domain.Resource{ID: "r0", Name: "app-0", Type: "build", Pipeline: "ci", Spec: []byte(`{}`)}
	ids := []string{
		"aa38ec7c-0000-4000-8000-000000000001",
		"aa38ec7c-0000-4000-8000-000000000002",
		"aa38ed00-0000-4000-8000-000000000003",
		"bb000000-0000-4000-8000-000000000004",
	}
	var events []domain.Event
	for i, id := range ids {
		var run domain.RunAggregate
		cause := domain.Cause{EventID: fmt.Sprintf("e%d", i), Time: time.Unix(int64(1e9+i), 0), CorrelationID: id, CausationID: "c"}
		if err := run.Start(id, "create", p, res, 1, cause); err != nil {
			t.Fatal(err)
		}
		for _, e := range run.Changes() {
			e.EventMeta().Sequence = uint64(len(events) + 1)
			events = append(events, e)
		}
	}
	feed(t, projections.NewProjector(store), events)
	q := projections.NewReadModel(store)
	ctx := context.Background()

	idsOf := func(prefix string, page projections.Page) ([]string, string) {
		t.Helper()
		runs, next, err := q.RunsByIDPrefix(ctx, prefix, page)
		if err != nil {
			t.Fatalf("prefix %q: %v", prefix, err)
		}
		var out []string
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out, next
	}
	if got, _ := idsOf("aa38ec7c", projections.Page{}); fmt.Sprint(got) != fmt.Sprint(ids[:2]) {
		t.Errorf("aa38ec7c: %v, want %v", got, ids[:2])
	}
	if got, _ := idsOf("aa38ed", projections.Page{}); fmt.Sprint(got) != fmt.Sprint(ids[2:3]) {
		t.Errorf("aa38ed: %v, want %v", got, ids[2:3])
	}
	if got, _ := idsOf("cc00", projections.Page{}); len(got) != 0 {
		t.Errorf("cc00: %v, want none", got)
	}
	first, next := idsOf("aa38", projections.Page{Limit: 2})
	if fmt.Sprint(first) != fmt.Sprint(ids[:2]) || next == "" {
		t.Fatalf("aa38, first page of 2: %v (next %q), want %v and a next page", first, next, ids[:2])
	}
	if rest, next := idsOf("aa38", projections.Page{Limit: 2, Continue: next}); fmt.Sprint(rest) != fmt.Sprint(ids[2:3]) || next != "" {
		t.Errorf("aa38, second page: %v (next %q), want %v and no more", rest, next, ids[2:3])
	}
	var invalid *domain.ValidationError
	if _, _, err := q.RunsByIDPrefix(ctx, "aa3", projections.Page{}); !errors.As(err, &invalid) {
		t.Errorf("a prefix of 3 characters: %v, want a validation error", err)
	}
}
