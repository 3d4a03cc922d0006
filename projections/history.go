package projections

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/conveyor/conveyor/domain"
)

// Moment is a point in the history of the event log: a log position (the
// stream sequence) when Sequence is set, else a time.
type Moment struct {
	Sequence uint64
	Time     time.Time
}

// ErrMoment says what a moment may be; ParseMoment returns it for anything
// else.
var ErrMoment = errors.New("must be an RFC 3339 time (2026-01-02T15:04:05Z) or a log position (a positive integer)")

// ParseMoment reads a moment as a client writes it: a positive integer is a
// log position, anything else must be an RFC 3339 time. A space stands for
// the "+" of a time zone offset, since an unescaped "+" in a query string
// arrives as a space.
func ParseMoment(s string) (Moment, error) {
	s = strings.TrimSpace(s)
	if s != "" && strings.Trim(s, "0123456789") == "" {
		seq, err := strconv.ParseUint(s, 10, 64)
		if err != nil || seq == 0 {
			return Moment{}, ErrMoment
		}
		return Moment{Sequence: seq}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.ReplaceAll(s, " ", "+"))
	if err != nil {
		return Moment{}, ErrMoment
	}
	return Moment{Time: t}, nil
}

// String is the moment as ParseMoment reads it.
func (m Moment) String() string {
	if m.Sequence > 0 {
		return "log position " + strconv.FormatUint(m.Sequence, 10)
	}
	return m.Time.UTC().Format(time.RFC3339Nano)
}

// Includes reports whether e had been recorded at m: its log position is at
// or before m's (the events of one command may share one position), or its
// time is not after m's.
func (m Moment) Includes(e domain.Event) bool {
	meta := e.EventMeta()
	if m.Sequence > 0 {
		return meta.Sequence <= m.Sequence
	}
	return !meta.Time.After(m.Time)
}

// upTo is the longest prefix of events, of one aggregate in order, that m
// includes. Events of one aggregate are in log order; a prefix keeps a time
// that a clock set back would put out of order from skipping an event.
func upTo(events []domain.Event, m Moment) []domain.Event {
	for i, e := range events {
		if !m.Includes(e) {
			return events[:i]
		}
	}
	return events
}

// ResourceAt is the resource as the read model showed it at moment at,
// rebuilt from its events (in order, as the event log holds them) and the
// events of its runs (each run's in order; runs of other incarnations of the
// same name may be among them). ok is false when the resource did not exist
// at that moment.
//
// As in the read model, the metadata holds under driverresults.{driver} the
// last result each driver recorded by then in a run of this incarnation of
// the resource (the same resource id): replacing the resource keeps them,
// deleting and creating it again starts without them.
func ResourceAt(events []domain.Event, runs [][]domain.Event, at Moment) (domain.Resource, bool) {
	var agg domain.ResourceAggregate
	for _, e := range upTo(events, at) {
		agg.Apply(e)
	}
	if !agg.Exists() {
		return domain.Resource{}, false
	}
	res := agg.State()
	var results []*domain.DriverResultRecorded
	for _, run := range runs {
		run = upTo(run, at)
		if len(run) == 0 {
			continue
		}
		if started, ok := run[0].(*domain.RunStarted); !ok || started.Resource.ID != res.ID {
			continue
		}
		for _, e := range run[1:] {
			if r, ok := e.(*domain.DriverResultRecorded); ok && r.Ignored == "" {
				results = append(results, r)
			}
		}
	}
	sort.SliceStable(results, func(i, j int) bool { return results[i].Sequence < results[j].Sequence })
	meta := make(map[string]string, len(res.Metadata)+len(results))
	for k, v := range res.Metadata {
		meta[k] = v
	}
	for _, r := range results {
		meta[domain.MetaResultPrefix+r.Result.Driver] = domain.ResultJSON(r.Result)
	}
	res.Metadata = meta
	return res, true
}

// RunAt is the run as it was at moment at, rebuilt from its events in
// order; ok is false when it had not started by then.
func RunAt(events []domain.Event, at Moment) (domain.Run, bool) {
	var agg domain.RunAggregate
	for _, e := range upTo(events, at) {
		agg.Apply(e)
	}
	return agg.State(), agg.Exists()
}
