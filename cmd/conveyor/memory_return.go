package main

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A burst of runs leaves the Go heap holding pages it no longer needs: the
// runtime hands them back to the system slowly, and only down to about
// twice what is live, so the resident set after a burst stays the burst's
// for a long time. Once the process is quiet again, the server collects
// and hands back every free page at once (debug.FreeOSMemory), two
// collections of what is live now: its cost follows the work in flight, not
// the history, and it happens once per burst.
const (
	// memoryReturnEvery is how often the heap is looked at: reading the
	// runtime's metrics costs microseconds.
	memoryReturnEvery = 10 * time.Second
	// memoryQuietBytes: allocating less than this in one look's interval
	// is quiet (an idle server allocates a few hundred KB a second, a
	// burst hundreds of MB).
	memoryQuietBytes = 32 << 20
	// memoryWorthBytes: hand back only when the heap holds at least this
	// much more than is live.
	memoryWorthBytes = 64 << 20
)

// serverGCPercent is the server's collector target when GOGC is not set:
// the heap may grow by half of what is live before a collection, not by
// all of it (Go's default, 100). A burst's long-lived objects (etcd's key
// index, nats-server's subject trees, the caches) land in whatever spans
// the heap has while it runs; the smaller the heap grows, the fewer spans
// hold them once the burst is over, and the less stays resident after it
// (docs/decisions.md, "The collector's target"). It costs more
// collections under load.
const serverGCPercent = 50

// setServerGC applies serverGCPercent unless the operator chose with GOGC.
func setServerGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serverGCPercent)
	}
}

// memoryReturn decides when to hand memory back: once per quiet period
// that follows a busy one, when there is enough to hand back.
type memoryReturn struct {
	allocs uint64 // bytes allocated since the start, at the last look
	armed  bool   // a busy interval was seen since the last return
}

// due says whether to hand memory back now, given the bytes allocated
// since the start, the heap the runtime holds and not released (objects,
// unused and free spans), and the heap live after the last collection.
func (m *memoryReturn) due(allocs, held, live uint64) bool {
	busy := allocs-m.allocs >= memoryQuietBytes
	m.allocs = allocs
	if busy {
		m.armed = true
		return false
	}
	if !m.armed || held < live+memoryWorthBytes {
		return false
	}
	m.armed = false
	return true
}

// handBackMemory collects and hands every free page back to the system.
// What a sync.Pool holds outlives one collection and goes with the next:
// nats-server keeps the 8 MB buffers of its message blocks' caches in one,
// 80 MB of them after 50,000 runs were dispatched (docs/decisions.md). So
// two collections, the second FreeOSMemory's. It is also what the embedded
// etcd calls once settled, when what its compaction let go of is garbage.
func handBackMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// memoryReturnedMessage is the message of the line logged each time: once
// per burst.
const memoryReturnedMessage = "handed free memory back to the system after a burst"

// heapSamples are the runtime metrics due reads.
var heapSamples = []string{
	"/gc/heap/allocs:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/gc/heap/live:bytes",
}

// returnMemoryWhenQuiet looks at the heap every memoryReturnEvery until ctx
// ends, and hands free memory back to the system when due says so. First
// it calls each forget: the caches that hold what the burst used last
// (runs, events, a stream's last messages) let go of it, so that their
// objects go with the collection and the spans they kept in use with them.
// A cache is for the work in flight; once nothing moves, what it holds is
// the burst's, and reading it again costs one read per run when work
// resumes.
func returnMemoryWhenQuiet(ctx context.Context, log *slog.Logger, forget ...func()) {
	samples := make([]metrics.Sample, len(heapSamples))
	for i, name := range heapSamples {
		samples[i].Name = name
	}
	var m memoryReturn
	tick := time.NewTicker(memoryReturnEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(samples)
		v := func(i int) uint64 { return samples[i].Value.Uint64() }
		held := v(1) + v(2) + v(3)
		if !m.due(v(0), held, v(4)) {
			continue
		}
		start := time.Now()
		for _, f := range forget {
			f()
		}
		handBackMemory()
		log.Info(memoryReturnedMessage, "held", held, "live", v(4), "took", time.Since(start).Round(time.Millisecond))
	}
}
