package eventstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
)

// benchLog is a store holding n definition events.
func benchLog(b *testing.B, n int) *storeUnderBench {
	b.Helper()
	_, js := embedtest.JetStream(b, embedtest.NATS(b, ""))
	s := newStore(b, js)
	ctx := context.Background()
	for i := range n {
		e := definitionEvent(b, "d"+strconv.Itoa(i), 1)
		if _, err := s.Append(ctx, []domain.Event{e}, 0); err != nil {
			b.Fatal(err)
		}
	}
	return &storeUnderBench{s, n}
}

type storeUnderBench struct {
	*eventstore.Store
	n int
}

// BenchmarkEventsPage reads pages of 1,000 events of the whole log, as
// GET /events does; events/s is the figure to compare.
func BenchmarkEventsPage(b *testing.B) {
	l := benchLog(b, 20000)
	ctx := context.Background()
	b.ResetTimer()
	var read int
	for i := range b.N {
		events, _, err := l.Events(ctx, projections.EventQuery{After: uint64(i*1000) % uint64(l.n-1000), Limit: 1000})
		if err != nil || len(events) != 1000 {
			b.Fatalf("%d events, %v", len(events), err)
		}
		read += len(events)
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReplay decodes the whole log in order, as a rebuild does.
func BenchmarkReplay(b *testing.B) {
	l := benchLog(b, 20000)
	ctx := context.Background()
	b.ResetTimer()
	var read int
	for range b.N {
		if err := l.Replay(ctx, 1, func(domain.Event) error { read++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkBuildIntoMemory projects a log of resource creates into a
// MemStore, as a rebuild does before it writes to etcd; events/s is the
// figure to compare.
func BenchmarkBuildIntoMemory(b *testing.B) {
	_, js := embedtest.JetStream(b, embedtest.NATS(b, ""))
	s := newStore(b, js)
	ctx := context.Background()
	const n = 20000
	for i := range n {
		var agg domain.ResourceAggregate
		c := domain.Cause{EventID: "e" + strconv.Itoa(i), Time: time.Now(), CorrelationID: "run-" + strconv.Itoa(i), CausationID: "req"}
		r := domain.Resource{Name: "r" + strconv.Itoa(i), Type: "bench", Spec: []byte(`{"n":1}`)}
		if err := agg.Create(r, "id-"+strconv.Itoa(i), c); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Append(ctx, agg.Changes(), 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var read uint64
	for range b.N {
		last, err := projections.Build(ctx, s, projections.NewProjector(projections.NewMemStore()), 1, nil)
		if err != nil {
			b.Fatal(err)
		}
		read += last
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}
