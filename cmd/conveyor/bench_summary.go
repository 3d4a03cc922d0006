package main

import (
	"fmt"
	"time"
)

// summary gathers, as the scenarios measure them, the figures that have a
// goal, and prints each beside its goal and, where there is one, this
// machine's ceiling for it. A figure a run did not measure says so.
type summary struct {
	creates   map[int]loadResult // by concurrency
	runs      *runsResult
	resources int   // created when memory was read
	memory    int64 // server resident set in bytes; 0: not read
	replay    replayResult
	rebuild   *rebuildResult
	ceilings  *ceilings
}

// The sizes the goals were set at: a figure measured at another size is
// printed, not judged against them.
const (
	goalRuns                           = 1000
	goalResourcesMin, goalResourcesMax = 12000, 20000
)

func (s summary) rows() []row {
	rows := []row{{"goals", "goal", "measured: met or missed (this machine's ceiling)"}}
	if r, ok := s.creates[1]; ok {
		p50 := percentile(r.lat, 50)
		rows = append(rows, s.goal("create, concurrency 1", "p50 ≤ 0.45ms", p50.String(), p50 <= 450*time.Microsecond,
			func(c ceilings) string {
				return fmt.Sprintf("bare HTTP %v, bare publish %v", percentile(c.http1.lat, 50), percentile(c.publish1.lat, 50))
			}))
	}
	if r, ok := s.creates[16]; ok {
		rows = append(rows, s.goal("create, concurrency 16", "creates/s ≥ 7000", fmt.Sprintf("%.0f", r.perSecond()), r.perSecond() >= 7000, nil))
	}
	if r, ok := s.creates[64]; ok {
		rows = append(rows, s.goal("create, concurrency 64", "creates/s ≥ 11000", fmt.Sprintf("%.0f", r.perSecond()), r.perSecond() >= 11000,
			func(c ceilings) string {
				return fmt.Sprintf("bare HTTP %.0f/s, bare publish %.0f/s", c.http64.perSecond(), c.publish64.perSecond())
			}))
	}
	if r := s.runs; r != nil {
		took, idle, loaded := r.took.Round(time.Millisecond), percentile(r.idle, 50), percentile(r.loaded, 50)
		if r.n == goalRuns {
			rows = append(rows, s.goal(fmt.Sprintf("%d two-step runs", r.n), "last step's work ≤ 0.5s for 1000", took.String(), took <= 500*time.Millisecond, nil))
		} else {
			rows = append(rows, row{fmt.Sprintf("%d two-step runs", r.n), "last step's work ≤ 0.5s for 1000",
				took.String() + fmt.Sprintf(": not judged, the goal is for %d runs (--runs %d)", goalRuns, goalRuns)})
		}
		rows = append(rows,
			s.goal("step-to-step, under load", "p50 ≤ 5ms", loaded.String(), loaded <= 5*time.Millisecond, nil),
			s.goal("step-to-step, idle", "p50 ≤ 1ms", idle.String(), idle <= time.Millisecond, nil))
	} else {
		rows = append(rows, row{"two-step runs", "last step's work ≤ 0.5s for 1000", "not measured (--runs 0)"})
	}
	switch {
	case s.memory > 0 && s.resources >= goalResourcesMin && s.resources <= goalResourcesMax:
		rows = append(rows, s.goal(fmt.Sprintf("memory after %d resources", s.resources), "resident set ≤ 100 MB at ~16000",
			megabytes(s.memory), s.memory <= 100e6, nil))
	case s.memory > 0:
		rows = append(rows, row{fmt.Sprintf("memory after %d resources", s.resources), "resident set ≤ 100 MB at ~16000",
			megabytes(s.memory) + fmt.Sprintf(": not judged, the goal is for %d to %d resources", goalResourcesMin, goalResourcesMax)})
	default:
		rows = append(rows, row{"memory", "resident set ≤ 100 MB at ~16000", "not measured (a server the bench did not start)"})
	}
	bareRead := func(c ceilings) string { return fmt.Sprintf("bare read %.0f/s", c.read.perSecond()) }
	rows = append(rows, s.goal(fmt.Sprintf("replay: GET /events over %d events", s.replay.events), "events/s ≥ 200000",
		fmt.Sprintf("%.0f", s.replay.perSecond()), s.replay.perSecond() >= 200000, bareRead))
	if r := s.rebuild; r != nil {
		rows = append(rows, s.goal(fmt.Sprintf("replay: the rebuild's, of %d events", r.replayed), "events/s ≥ 200000",
			fmt.Sprintf("%.0f", r.replayPerSecond()), r.replayPerSecond() >= 200000, bareRead))
		if r.events >= 1e6 {
			rows = append(rows, s.goal(fmt.Sprintf("rebuild of %d events", r.events), "until the new generation serves ≤ 30s for 1,000,000",
				r.serving.Round(time.Millisecond).String(), r.serving <= 30*time.Second, nil))
		} else {
			rows = append(rows, row{fmt.Sprintf("rebuild of %d events", r.events), "until the new generation serves ≤ 30s for 1,000,000",
				r.serving.Round(time.Millisecond).String() + ": not judged, the log is shorter (--fill 1000000)"})
		}
	} else {
		rows = append(rows, row{"rebuild", "until the new generation serves ≤ 30s for 1,000,000", "not measured (--rebuild=false)"})
	}
	return rows
}

// goal is the row of one figure: measured, met or missed, and the ceiling
// beside it when the ceilings were measured and ceiling is not nil.
func (s summary) goal(scenario, goal, measured string, met bool, ceiling func(ceilings) string) row {
	value := measured + ": missed"
	if met {
		value = measured + ": met"
	}
	if s.ceilings != nil && ceiling != nil {
		value += " (" + ceiling(*s.ceilings) + ")"
	}
	return row{scenario, goal, value}
}
