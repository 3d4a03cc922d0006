package main

import "testing"

// TestMemoryIsReturnedOncePerQuietPeriod: memory is handed back on the
// first quiet look after a busy one, when the heap holds enough beyond what
// is live; never while busy, never twice in one quiet period, and not when
// there is little to hand back.
func TestMemoryIsReturnedOncePerQuietPeriod(t *testing.T) {
	const mb = 1 << 20
	var m memoryReturn
	var allocs uint64
	look := func(allocated, held, live uint64) bool {
		allocs += allocated
		return m.due(allocs, held, live)
	}
	if look(mb, 500*mb, 50*mb) {
		t.Error("handed back before any busy interval was seen")
	}
	if look(400*mb, 500*mb, 50*mb) {
		t.Error("handed back while busy")
	}
	if !look(mb, 500*mb, 50*mb) {
		t.Error("not handed back on the first quiet look after a burst")
	}
	if look(mb, 480*mb, 50*mb) {
		t.Error("handed back twice in one quiet period")
	}
	if look(200*mb, 300*mb, 50*mb) {
		t.Error("handed back while busy")
	}
	if look(mb, 100*mb, 50*mb) {
		t.Error("handed back with less than memoryWorthBytes above what is live")
	}
	if look(400*mb, 400*mb, 50*mb) {
		t.Error("handed back while busy")
	}
	if !look(0, 400*mb, 50*mb) {
		t.Error("not handed back after the next burst")
	}
}
