package domain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

func limit(n int) *int { return &n }

// groupRun starts a run of a pipeline in the concurrency group that
// resource.spec.env names.
func groupRun(t *testing.T, id string, c domain.Concurrency, spec string) *domain.RunAggregate {
	t.Helper()
	p := domain.Pipeline{Name: "deploy", Resource: "build", Timeout: "1h", Concurrency: &c,
		Steps: []domain.Step{{ID: "ship", Driver: "shipper"}}}
	if err := domain.CheckPipeline(p); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	var r domain.RunAggregate
	r.UseConditions(paths{})
	res := domain.Resource{Name: "app", Type: "build", Spec: json.RawMessage(spec)}
	if err := r.Start(id, "create", p, res, 1, cause("start-"+id)); err != nil {
		t.Fatal(err)
	}
	r.Advance(cause("advance-" + id))
	return &r
}

// A run of a pipeline with concurrency waits in its group before its first
// step: queued, no step dispatched, no deadline ticking; once admitted it
// runs, and its timeout counts from then.
func TestARunInAGroupIsQueuedUntilAdmitted(t *testing.T) {
	r := groupRun(t, "6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a11", domain.Concurrency{Group: "resource.spec.env"}, `{"env":"prod"}`)
	if diff := cmp.Diff([]string{domain.TypeRunStarted, domain.TypeRunQueued}, types(r.Changes())); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	st := r.State()
	want := &domain.RunConcurrency{Group: "prod", Limit: 1, OnFull: domain.OnFullQueue}
	if diff := cmp.Diff(want, st.Concurrency); diff != "" || st.Status != domain.RunStatusQueued || st.Ended() || st.Deadline != nil {
		t.Fatalf("queued run: %s, ended %v, deadline %v, concurrency (-want +got):\n%s", st.Status, st.Ended(), st.Deadline, diff)
	}
	if !strings.Contains(st.Message, `concurrency group "prod"`) {
		t.Errorf("message %q does not name the group", st.Message)
	}
	r.Admit(cause("admit"))
	r.Advance(cause("go"))
	got := types(r.Changes())[2:]
	if diff := cmp.Diff([]string{domain.TypeRunAdmitted, domain.TypeStepDispatched}, got); diff != "" {
		t.Fatalf("after admission (-want +got):\n%s", diff)
	}
	if st := r.State(); st.Status != domain.RunStatusRunning || st.Deadline == nil || st.Message != "" {
		t.Errorf("admitted run: %s, deadline %v, message %q", st.Status, st.Deadline, st.Message)
	}
}

// A group expression that cannot be evaluated fails the run at once.
func TestAGroupThatCannotBeEvaluatedFailsTheRun(t *testing.T) {
	r := groupRun(t, "6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a12", domain.Concurrency{Group: "resource.spec.env"}, `{}`)
	st := r.State()
	if st.Status != domain.RunStatusFailed || !strings.Contains(st.Message, "concurrency group could not be evaluated") {
		t.Errorf("run %s: %q, want failed naming the group", st.Status, st.Message)
	}
}

// Cancelling a queued run ends it.
func TestAQueuedRunCanBeCancelled(t *testing.T) {
	r := groupRun(t, "6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a13", domain.Concurrency{Group: "resource.spec.env"}, `{"env":"prod"}`)
	if err := r.Cancel("no longer needed", cause("cancel")); err != nil {
		t.Fatal(err)
	}
	if st := r.State(); st.Status != domain.RunStatusCancelled || st.Steps[0].Status != domain.StepStatusSkipped {
		t.Errorf("cancelled queued run: %s, step %s", st.Status, st.Steps[0].Status)
	}
}

func TestConcurrencyChecks(t *testing.T) {
	for _, c := range []struct {
		conc  domain.Concurrency
		field string
	}{
		{domain.Concurrency{Group: "resource.name", Limit: limit(0)}, "concurrency.limit"},
		{domain.Concurrency{Group: "resource.name", Limit: limit(-2)}, "concurrency.limit"},
		{domain.Concurrency{Group: "resource.name", OnFull: "drop"}, "concurrency.onFull"},
		{domain.Concurrency{}, "concurrency.group"},
		{domain.Concurrency{Group: "resource.!!"}, "concurrency.group"},
	} {
		p := domain.Pipeline{Name: "deploy", Resource: "build", Concurrency: &c.conc, Steps: []domain.Step{{ID: "ship", Driver: "shipper"}}}
		err := domain.CheckPipeline(p)
		if problems := domain.CheckConditions(p, paths{}); len(problems) > 0 {
			err = errors.Join(err, problems)
		}
		var ve domain.ValidationErrors
		if !errors.As(err, &ve) || !slices.ContainsFunc(ve, func(v *domain.ValidationError) bool { return v.Field == c.field }) {
			t.Errorf("%+v: %v, want a problem with %s", c.conc, err, c.field)
		}
	}
	ok := domain.Pipeline{Name: "deploy", Resource: "build", Steps: []domain.Step{{ID: "ship", Driver: "shipper"}},
		Concurrency: &domain.Concurrency{Group: "resource.name", Limit: limit(3), OnFull: domain.OnFullCancelRunning}}
	if err := domain.CheckPipeline(ok); err != nil {
		t.Errorf("a valid concurrency is refused: %v", err)
	}
}

const r1, r2, r3, r4 = "run-1", "run-2", "run-3", "run-4"

// group is a group with its events so far applied, and nothing recorded.
func group(t *testing.T, events []domain.Event) *domain.GroupAggregate {
	t.Helper()
	g := domain.NewGroup("prod")
	for _, e := range events {
		g.Apply(e)
	}
	return g
}

// Limit 2, queue: two runs take the places, the next two wait in order;
// a run that ends lets in the first that waits; a waiting run that leaves
// (cancelled) lets in nobody.
func TestGroupQueuesAdmitsAndReleasesInOrder(t *testing.T) {
	g := domain.NewGroup("prod")
	var outcomes []domain.JoinOutcome
	for _, id := range []string{r1, r2, r3, r4} {
		outcomes = append(outcomes, g.Join(id, 2, domain.OnFullQueue, 0, cause("join-"+id)))
	}
	if diff := cmp.Diff([]domain.JoinOutcome{domain.Admitted, domain.Admitted, domain.Queued, domain.Queued}, outcomes); diff != "" {
		t.Fatalf("outcomes (-want +got):\n%s", diff)
	}
	want := domain.ConcurrencyGroup{Name: "prod", Running: []string{r1, r2},
		Queued: []domain.QueuedRun{{RunID: r3, Limit: 2}, {RunID: r4, Limit: 2}}}
	if diff := cmp.Diff(want, g.State()); diff != "" {
		t.Fatalf("group (-want +got):\n%s", diff)
	}
	if g.State().Position(r4) != 2 || g.State().Position(r1) != 0 {
		t.Errorf("positions: r4 %d, r1 %d", g.State().Position(r4), g.State().Position(r1))
	}
	// Rebuilt from its events, the group is the same.
	if diff := cmp.Diff(want, group(t, g.Changes()).State()); diff != "" {
		t.Fatalf("rebuilt group (-want +got):\n%s", diff)
	}
	// Joining again (a redelivery, a second server) changes nothing.
	again := group(t, g.Changes())
	if again.Join(r1, 2, domain.OnFullQueue, 0, cause("x")) != domain.Admitted || again.Join(r3, 2, domain.OnFullQueue, 0, cause("y")) != domain.Queued ||
		len(again.Changes()) != 0 {
		t.Errorf("joining again recorded %v", types(again.Changes()))
	}

	g = group(t, g.Changes())
	if got := g.Leave(r4, "cancelled", cause("leave-r4")); len(got) != 0 {
		t.Errorf("a queued run that leaves lets in %v", got)
	}
	if got := g.Leave(r1, "succeeded", cause("leave-r1")); !slices.Equal(got, []string{r3}) {
		t.Errorf("r1 ended: admitted %v, want [run-3]", got)
	}
	want = domain.ConcurrencyGroup{Name: "prod", Running: []string{r2, r3}, Queued: []domain.QueuedRun{}}
	if diff := cmp.Diff(want, g.State(), cmpEmpty); diff != "" {
		t.Errorf("group (-want +got):\n%s", diff)
	}
	if got := g.Leave(r1, "again", cause("leave-r1-again")); got != nil || len(g.Changes()) != 3 {
		t.Errorf("leaving twice: %v, %v", got, types(g.Changes()))
	}
	for _, e := range g.Changes() {
		if m := e.EventMeta(); m.Aggregate != domain.AggregateConcurrency || m.AggregateID != domain.GroupID("prod") {
			t.Errorf("event %s of %s/%s", m.Type, m.Aggregate, m.AggregateID)
		}
	}
}

var cmpEmpty = cmp.Transformer("empty", func(q []domain.QueuedRun) []domain.QueuedRun {
	if len(q) == 0 {
		return nil
	}
	return q
})

// A full group with cancel-running releases its oldest run for
// cancellation and admits the new one; with skip, it records nothing and
// the new run is skipped.
func TestGroupCancelRunningAndSkip(t *testing.T) {
	g := domain.NewGroup("prod")
	g.Join(r1, 1, domain.OnFullCancelRunning, 0, cause("1"))
	if got := g.Join(r2, 1, domain.OnFullCancelRunning, 0, cause("2")); got != domain.Admitted {
		t.Fatalf("cancel-running: %s, want admitted", got)
	}
	released, ok := g.Changes()[1].(*domain.GroupRunReleased)
	if !ok || released.RunID != r1 || !released.Cancel || !strings.Contains(released.Reason, r2) {
		t.Fatalf("cancel-running recorded %+v, want r1 released to be cancelled", g.Changes()[1])
	}
	if diff := cmp.Diff([]string{r2}, g.State().Running); diff != "" {
		t.Errorf("running (-want +got):\n%s", diff)
	}
	if got := g.Join(r3, 1, domain.OnFullSkip, 0, cause("3")); got != domain.Skipped || len(g.Changes()) != 3 {
		t.Errorf("skip: %s, recorded %v", got, types(g.Changes()))
	}
}

// An older run that reaches a cancel-running group after a newer one took
// its place (two workers, two servers) never cancels it: it is superseded
// and records nothing. One that reaches it after an older run cancels that.
func TestGroupCancelRunningNeverCancelsANewerRun(t *testing.T) {
	g := domain.NewGroup("prod")
	g.Join(r2, 1, domain.OnFullCancelRunning, 20, cause("2"))
	if got := g.Join(r1, 1, domain.OnFullCancelRunning, 10, cause("1")); got != domain.Superseded || len(g.Changes()) != 1 {
		t.Errorf("an older run joining: %s, recorded %v", got, types(g.Changes()))
	}
	if got := g.Join(r3, 1, domain.OnFullCancelRunning, 30, cause("3")); got != domain.Admitted {
		t.Errorf("a newer run joining: %s, want admitted", got)
	}
	// The order of a run admitted from the queue is its queued order.
	q := domain.NewGroup("q")
	q.Join(r1, 1, domain.OnFullQueue, 10, cause("1"))
	q.Join(r2, 1, domain.OnFullQueue, 20, cause("2"))
	q.Leave(r1, "done", cause("l"))
	if got := q.Join(r3, 1, domain.OnFullCancelRunning, 15, cause("3")); got != domain.Superseded {
		t.Errorf("an older run joining after a queued one was admitted: %s", got)
	}
}

// Runs that reach a full group out of order (two servers, two workers)
// wait in the order they were queued in the log.
func TestGroupQueuesByLogPosition(t *testing.T) {
	g := domain.NewGroup("prod")
	g.Join(r1, 1, domain.OnFullQueue, 5, cause("1"))
	for _, j := range []struct {
		id    string
		order uint64
	}{{r4, 40}, {r2, 20}, {r3, 30}} {
		g.Join(j.id, 1, domain.OnFullQueue, j.order, cause(j.id))
	}
	var queued []string
	for _, q := range g.State().Queued {
		queued = append(queued, q.RunID)
	}
	if diff := cmp.Diff([]string{r2, r3, r4}, queued); diff != "" {
		t.Errorf("queue (-want +got):\n%s", diff)
	}
}

// A group records a snapshot as the last event of the decision that
// brings it to groupSnapshotEvery events since the last one, and never
// between: folding the events from the last snapshot gives the group that
// every event gives.
func TestGroupSnapshotsEverySoManyEvents(t *testing.T) {
	g := domain.NewGroup("deploy")
	var all []domain.Event
	since := 0
	for i := range 400 {
		c := domain.Cause{EventID: fmt.Sprintf("d-%d", i), Time: time.Unix(int64(i), 0)}
		run := fmt.Sprintf("run-%d", i/3)
		switch i % 3 {
		case 0, 1:
			g.Join(fmt.Sprintf("run-%d-%d", i/3, i%3), 1, domain.OnFullQueue, uint64(i+1), c)
		case 2:
			g.Leave(run+"-0", "ended", c)
		}
		before := len(g.Changes())
		g.SnapshotIfDue()
		changes := g.Changes()
		for j, e := range changes {
			if domain.IsSnapshot(e) {
				if j != len(changes)-1 || j != before {
					t.Fatalf("decision %d: snapshot at %d of %d events, want only last", i, j, len(changes))
				}
				if since < 64 {
					t.Fatalf("decision %d: snapshot after %d events, want 64 or more", i, since)
				}
				since = 0
				continue
			}
			since++
		}
		all = append(all, changes...)
		next := domain.NewGroup("deploy")
		for _, e := range all {
			next.Apply(e)
		}
		g = next
	}
	last := -1
	for i, e := range all {
		if domain.IsSnapshot(e) {
			last = i
		}
	}
	if last < 0 {
		t.Fatal("no snapshot in 400 decisions")
	}
	from := domain.NewGroup("deploy")
	for _, e := range all[last:] {
		from.Apply(e)
	}
	if diff := cmp.Diff(g.State(), from.State()); diff != "" {
		t.Errorf("from the last snapshot (-every event +from the snapshot):\n%s", diff)
	}
}
