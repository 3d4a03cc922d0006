package follow

import (
	"runtime"
	"testing"
	"unsafe"
)

// TestTailRingIsNotCopiedAtEveryMessage: once the ring is full, adding a
// message drops the oldest; copying the whole ring for that at every
// message made a burst of log lines quadratic (4,096 messages moved per
// line). Over many adds the ring is copied about once per ring's length.
func TestTailRingIsNotCopiedAtEveryMessage(t *testing.T) {
	const ring, adds = 4096, 20000
	tail := NewTail(nil, "lines", TailConfig{Messages: ring})
	data := []byte("a line")
	for seq := uint64(1); seq <= ring; seq++ {
		tail.add(Msg{Sequence: seq, Data: data})
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for seq := uint64(ring + 1); seq <= ring+adds; seq++ {
		tail.add(Msg{Sequence: seq, Data: data})
	}
	runtime.ReadMemStats(&after)
	if len(tail.ring) != ring || tail.from != adds || tail.last != ring+adds {
		t.Fatalf("ring of %d messages after %d, up to %d; want %d after %d, up to %d", len(tail.ring), tail.from, tail.last, ring, adds, ring+adds)
	}
	// A copy of the ring is ring × the size of a Msg; once per message
	// that is adds copies, once per ring's length a handful.
	copies := float64(after.TotalAlloc-before.TotalAlloc) / float64(ring*unsafe.Sizeof(Msg{}))
	if copies > adds/100 {
		t.Errorf("%d adds to a full ring allocated %.0f copies of it, want about %d", adds, copies, 2*adds/ring)
	}
}
