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
// and only those, a page at a time; a prefix under six characters is
// refused.
func TestRunsByIDPrefix(t *testing.T) {
	store := etcdstore.New(embedtest.Etcd(t), "/prefix")
	p := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "a", Driver: "d"}}}
	res := domain.Resource{ID: "r0", Name: "app-0", Type: "build", Pipeline: "ci", Spec: []byte(`{}`)}
	ids := []string{
		"aa38ec7c-0000-4000-8000-000000000001",
		"aa38ec7c-0000-4000-8000-000000000002",
		"aa38ec00-0000-4000-8000-000000000003",
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
	if got, _ := idsOf("aa38ec0", projections.Page{}); fmt.Sprint(got) != fmt.Sprint(ids[2:3]) {
		t.Errorf("aa38ec0: %v, want %v", got, ids[2:3])
	}
	if got, _ := idsOf("cc0000", projections.Page{}); len(got) != 0 {
		t.Errorf("cc0000: %v, want none", got)
	}
	// In ID order: aa38ec00… before both aa38ec7c….
	first, next := idsOf("aa38ec", projections.Page{Limit: 2})
	if want := []string{ids[2], ids[0]}; fmt.Sprint(first) != fmt.Sprint(want) || next == "" {
		t.Fatalf("aa38ec, first page of 2: %v (next %q), want %v and a next page", first, next, want)
	}
	if rest, next := idsOf("aa38ec", projections.Page{Limit: 2, Continue: next}); fmt.Sprint(rest) != fmt.Sprint(ids[1:2]) || next != "" {
		t.Errorf("aa38ec, second page: %v (next %q), want %v and no more", rest, next, ids[1:2])
	}
	var invalid *domain.ValidationError
	if _, _, err := q.RunsByIDPrefix(ctx, "aa38e", projections.Page{}); !errors.As(err, &invalid) {
		t.Errorf("a prefix of 5 characters: %v, want a validation error", err)
	}
}
