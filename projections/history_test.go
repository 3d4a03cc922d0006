package projections_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/google/go-cmp/cmp"
)

// travelLog is an event log in the making: each append takes the next log
// position, and the events of one append share it, as the events of one
// command do when they are stored in one message.
type travelLog struct {
	t   *testing.T
	seq uint64
	n   int
}

// epoch is the time of log position 0; position p is p minutes later.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func timeOf(seq uint64) time.Time { return epoch.Add(time.Duration(seq) * time.Minute) }

// cause is the cause of the next append.
func (l *travelLog) cause(corr string) domain.Cause {
	l.n++
	return domain.Cause{EventID: fmt.Sprintf("e%d", l.n), Time: timeOf(l.seq + 1), CorrelationID: corr, CausationID: "c"}
}

// append gives the events recorded since the last call (from changes) the
// next position and returns them.
func (l *travelLog) append(changes []domain.Event, from int) []domain.Event {
	l.seq++
	out := changes[from:]
	for _, e := range out {
		e.EventMeta().Sequence = l.seq
	}
	return out
}

func (l *travelLog) must(err error) {
	l.t.Helper()
	if err != nil {
		l.t.Fatal(err)
	}
}

// travelHistory is the story every case reads, position by position:
//
//	1 a definition (another aggregate)
//	2 build/app-1 created (id r1, ref v1)       3 run A started and compile dispatched (one message)
//	4 compile succeeded, run A succeeded        5 build/app-1 replaced (ref v2)
//	6 run B started                             7 compile dispatched in run B
//	8 a stray result, ignored                   9 compile failed, run B failed
//	10 build/app-1 deleted                      11 build/app-1 created again (id r2, ref v3)
//	12 run C started, compile dispatched        13 run B retried: a late result of the old incarnation
type travelHistory struct {
	resource []domain.Event
	runs     [][]domain.Event
	runA     []domain.Event
}

const (
	runA = "0e7a4a58-6a0e-4c43-9d7e-1f0c8c3b6a01"
	runB = "0e7a4a58-6a0e-4c43-9d7e-1f0c8c3b6a02"
	runC = "0e7a4a58-6a0e-4c43-9d7e-1f0c8c3b6a03"
)

func buildTravelHistory(t *testing.T) travelHistory {
	l := &travelLog{t: t}
	var h travelHistory
	var def domain.Definition
	l.must(def.Create(domain.ResourceDefinition{Name: "build", Schema: []byte(`{}`)}, "d1", l.cause("")))
	l.append(def.Changes(), 0)

	pipeline := domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "compile", Driver: "compiler"}}}
	spec := func(ref string) domain.Resource {
		return domain.Resource{Name: "app-1", Type: "build", Pipeline: "ci", Spec: []byte(`{"ref":"` + ref + `"}`),
			Metadata: map[string]string{"team": "web"}}
	}
	var res domain.ResourceAggregate
	l.must(res.Create(spec("v1"), "r1", l.cause(runA)))
	h.resource = append(h.resource, l.append(res.Changes(), 0)...)

	var a domain.RunAggregate
	l.must(a.Start(runA, "create", pipeline, res.State(), res.Version(), l.cause(runA)))
	a.Advance(l.cause(runA))
	h.runA = append(h.runA, l.append(a.Changes(), 0)...)
	l.must(a.RecordResult("compile", domain.DriverResult{Success: true, Message: "compiled v1", Driver: "compiler"}, l.cause(runA)))
	a.Advance(l.cause(runA))
	h.runA = append(h.runA, l.append(a.Changes(), 2)...)

	l.must(res.Replace(spec("v2"), 1, l.cause(runB)))
	h.resource = append(h.resource, l.append(res.Changes(), 1)...)

	var b domain.RunAggregate
	var runBEvents []domain.Event
	l.must(b.Start(runB, "update", pipeline, res.State(), res.Version(), l.cause(runB)))
	runBEvents = append(runBEvents, l.append(b.Changes(), 0)...)
	b.Advance(l.cause(runB))
	runBEvents = append(runBEvents, l.append(b.Changes(), 1)...)
	l.must(b.RecordResult("compile", domain.DriverResult{Success: true, Message: "stray", Driver: "uploader"}, l.cause(runB)))
	runBEvents = append(runBEvents, l.append(b.Changes(), 2)...)
	l.must(b.RecordResult("compile", domain.DriverResult{Success: false, Message: "compile v2 failed", Driver: "compiler"}, l.cause(runB)))
	b.Advance(l.cause(runB))
	runBEvents = append(runBEvents, l.append(b.Changes(), 3)...)

	l.must(res.Delete("build", "app-1", l.cause("")))
	h.resource = append(h.resource, l.append(res.Changes(), 2)...)
	l.must(res.Create(spec("v3"), "r2", l.cause(runC)))
	h.resource = append(h.resource, l.append(res.Changes(), 3)...)

	var c domain.RunAggregate
	l.must(c.Start(runC, "create", pipeline, res.State(), res.Version(), l.cause(runC)))
	c.Advance(l.cause(runC))
	runCEvents := l.append(c.Changes(), 0)

	// Run B is retried after the resource was deleted and created again;
	// its result belongs to the old incarnation.
	l.must(b.Retry(l.cause(runB)))
	b.Advance(l.cause(runB))
	l.must(b.RecordResult("compile", domain.DriverResult{Success: true, Message: "late", Driver: "compiler"}, l.cause(runB)))
	runBEvents = append(runBEvents, l.append(b.Changes(), 5)...)

	h.runs = [][]domain.Event{runCEvents, runBEvents, h.runA} // newest first, as the run index lists them
	return h
}

func resultMeta(success bool, message string) string {
	return domain.ResultJSON(domain.DriverResult{Success: success, Message: message, Driver: "compiler"})
}

func TestResourceAt(t *testing.T) {
	h := buildTravelHistory(t)
	version := func(id, ref, v string, results ...string) domain.Resource {
		meta := map[string]string{"team": "web", "version": v}
		if len(results) > 0 {
			meta["driverresults.compiler"] = results[0]
		}
		return domain.Resource{ID: id, Name: "app-1", Type: "build", Pipeline: "ci", Spec: []byte(`{"ref":"` + ref + `"}`), Metadata: meta}
	}
	cases := []struct {
		name   string
		at     projections.Moment
		want   domain.Resource
		exists bool
	}{
		{"before it was created, by position", projections.Moment{Sequence: 1}, domain.Resource{}, false},
		{"before it was created, by time", projections.Moment{Time: timeOf(2).Add(-time.Nanosecond)}, domain.Resource{}, false},
		{"just created", projections.Moment{Sequence: 2}, version("r1", "v1", "1"), true},
		{"created, at the exact time", projections.Moment{Time: timeOf(2)}, version("r1", "v1", "1"), true},
		{"with the first result", projections.Moment{Sequence: 4}, version("r1", "v1", "1", resultMeta(true, "compiled v1")), true},
		{"replaced: version 2 keeps the result", projections.Moment{Sequence: 5}, version("r1", "v2", "2", resultMeta(true, "compiled v1")), true},
		{"between the versions, by time", projections.Moment{Time: timeOf(5).Add(-time.Second)}, version("r1", "v1", "1", resultMeta(true, "compiled v1")), true},
		{"an ignored result changes nothing", projections.Moment{Sequence: 8}, version("r1", "v2", "2", resultMeta(true, "compiled v1")), true},
		{"a newer result replaces the older", projections.Moment{Sequence: 9}, version("r1", "v2", "2", resultMeta(false, "compile v2 failed")), true},
		{"deleted", projections.Moment{Sequence: 10}, domain.Resource{}, false},
		{"created again, without the old results", projections.Moment{Sequence: 11}, version("r2", "v3", "1"), true},
		{"a late result of the old incarnation stays out", projections.Moment{Sequence: 13}, version("r2", "v3", "1"), true},
		{"in the future: the current state", projections.Moment{Time: timeOf(1000)}, version("r2", "v3", "1"), true},
		{"past the end of the log", projections.Moment{Sequence: 1000}, version("r2", "v3", "1"), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := projections.ResourceAt(h.resource, h.runs, tc.at)
			if ok != tc.exists {
				t.Fatalf("exists = %v, want %v (%+v)", ok, tc.exists, got)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("resource at %v (-want +got):\n%s", tc.at, diff)
			}
		})
	}
}

func TestRunAt(t *testing.T) {
	h := buildTravelHistory(t)
	at := func(seq uint64) *time.Time { tm := timeOf(seq); return &tm }
	result := domain.DriverResult{Success: true, Message: "compiled v1", Driver: "compiler"}
	run := func(status string, step domain.StepState, finished *time.Time) domain.Run {
		return domain.Run{ID: runA, Status: status, Trigger: "create",
			Pipeline: domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "compile", Driver: "compiler"}}},
			Resource: domain.Resource{ID: "r1", Name: "app-1", Type: "build", Pipeline: "ci", Spec: []byte(`{"ref":"v1"}`),
				Metadata: map[string]string{"team": "web", "version": "1"}},
			ResourceEventVersion: 1, Steps: []domain.StepState{step}, StartedAt: timeOf(3), FinishedAt: finished}
	}
	dispatched := domain.StepState{ID: "compile", Driver: "compiler", Status: domain.StepStatusDispatched, Attempt: 1, DispatchedAt: at(3)}
	succeeded := dispatched
	succeeded.Status, succeeded.FinishedAt, succeeded.Result = domain.StepStatusSucceeded, at(4), &result
	cases := []struct {
		name   string
		at     projections.Moment
		want   domain.Run
		exists bool
	}{
		{"before it started", projections.Moment{Sequence: 2}, domain.Run{}, false},
		{"started and dispatched in one message", projections.Moment{Sequence: 3}, run(domain.RunStatusRunning, dispatched, nil), true},
		{"just before the result, by time", projections.Moment{Time: timeOf(4).Add(-time.Second)}, run(domain.RunStatusRunning, dispatched, nil), true},
		{"ended, by time", projections.Moment{Time: timeOf(4)}, run(domain.RunStatusSucceeded, succeeded, at(4)), true},
		{"past the end of the log", projections.Moment{Sequence: 1000}, run(domain.RunStatusSucceeded, succeeded, at(4)), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := projections.RunAt(h.runA, tc.at)
			if ok != tc.exists {
				t.Fatalf("exists = %v, want %v", ok, tc.exists)
			}
			if !ok {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("run at %v (-want +got):\n%s", tc.at, diff)
			}
		})
	}
}

func TestParseMoment(t *testing.T) {
	cases := []struct {
		in   string
		want projections.Moment
		err  bool
	}{
		{in: "42", want: projections.Moment{Sequence: 42}},
		{in: "2026-03-01T12:05:00Z", want: projections.Moment{Time: timeOf(5)}},
		{in: "2026-03-01T13:05:00.5+01:00", want: projections.Moment{Time: timeOf(5).Add(500 * time.Millisecond)}},
		{in: "2026-03-01T13:05:00 01:00", want: projections.Moment{Time: timeOf(5)}}, // an unescaped "+" in a query
		{in: "0", err: true},
		{in: "-3", err: true},
		{in: "1.5", err: true},
		{in: "99999999999999999999999", err: true},
		{in: "2026-03-01", err: true},
		{in: "yesterday", err: true},
		{in: "", err: true},
	}
	for _, tc := range cases {
		got, err := projections.ParseMoment(tc.in)
		if tc.err {
			if !errors.Is(err, projections.ErrMoment) {
				t.Errorf("ParseMoment(%q) = %v, %v; want ErrMoment", tc.in, got, err)
			}
			continue
		}
		if err != nil || got.Sequence != tc.want.Sequence || !got.Time.Equal(tc.want.Time) {
			t.Errorf("ParseMoment(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}
