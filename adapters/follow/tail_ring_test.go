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

// TestTailForgetsItsRing: once the tail forgot its ring, it holds no
// message; a follower after one of them must read the stream, a follower
// at the end waits for the next, which the ring then holds.
func TestTailForgetsItsRing(t *testing.T) {
	tail := NewTail(nil, "lines", TailConfig{Messages: 1024})
	for seq := uint64(1); seq <= 100; seq++ {
		tail.add(Msg{Sequence: seq, Data: []byte("a line")})
	}
	tail.Forget()
	if len(tail.ring) != 0 || tail.bytes != 0 || tail.from != 100 || tail.last != 100 {
		t.Fatalf("ring of %d messages (%d bytes) after %d up to %d; want none after 100 up to 100", len(tail.ring), tail.bytes, tail.from, tail.last)
	}
	if _, ok, _, _ := tail.since(50, 10); ok {
		t.Error("a follower after 50 is answered from the forgotten ring, want it sent to the stream")
	}
	if msgs, ok, last, _ := tail.since(100, 10); !ok || len(msgs) != 0 || last != 100 {
		t.Errorf("a follower at the end: %d messages, %v, last %d; want none, ok, 100", len(msgs), ok, last)
	}
	tail.add(Msg{Sequence: 101, Data: []byte("a line")})
	if msgs, ok, _, _ := tail.since(100, 10); !ok || len(msgs) != 1 || msgs[0].Sequence != 101 {
		t.Errorf("after the next message: %+v, %v; want message 101", msgs, ok)
	}
}
