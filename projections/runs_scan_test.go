package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/google/uuid"
)

// TestRunsStatusFilterStopsAtItsScanLimit: 6,000 runs of one resource
// type, one in a thousand succeeded. A page of that type's succeeded runs
// examines at most 5,000 entries of the type's run index: the first page holds the five it found there and a
// continue token, the next one the last; together every succeeded run,
// newest first, once.
func TestRunsStatusFilterStopsAtItsScanLimit(t *testing.T) {
	store := projections.NewMemStore()
	p := projections.NewProjector(store)
	pipeline := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "a", Driver: "d"}}}
	res := domain.Resource{ID: "r0", Name: "app", Type: "build", Pipeline: "ci", Spec: []byte(`{}`), Metadata: map[string]string{"version": "1"}}
	seq := uint64(0)
	var want []string
	for i := range 6000 {
		cause := domain.Cause{EventID: uuid.NewString(), Time: time.Unix(1e9+int64(i), 0), CorrelationID: "c", CausationID: "c"}
		var run domain.RunAggregate
		id := uuid.NewString()
		must(t, run.Start(id, "create", pipeline, res, 1, cause))
		run.Advance(cause)
		if i%1000 == 0 {
			must(t, run.RecordResult("", domain.DriverResult{Success: true, Message: "ok", Driver: "d"}, cause))
			run.Advance(cause)
			want = append([]string{id}, want...)
		}
		for _, e := range run.Changes() {
			seq++
			e.EventMeta().Sequence = seq
			if err := p.Project(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	q := projections.NewReadModel(store)
	var got []string
	var sizes []int
	page := projections.Page{Limit: 50}
	for range 10 {
		runs, next, err := q.Runs(context.Background(), projections.RunFilter{Resource: "build", Status: domain.RunStatusSucceeded}, page)
		must(t, err)
		sizes = append(sizes, len(runs))
		for _, r := range runs {
			got = append(got, r.ID)
		}
		if next == "" {
			break
		}
		page.Continue = next
	}
	if fmt.Sprint(sizes) != "[5 1]" {
		t.Errorf("pages of %v runs, want [5 1]: the first stops after 5,000 entries", sizes)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("succeeded runs %v, want %v", got, want)
	}
}
