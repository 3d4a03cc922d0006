package eventstore

import (
	"fmt"
	"testing"
)

// The chain cache holds at most its bound: the aggregates used least
// recently are forgotten first.
func TestChainsStayWithinTheirBound(t *testing.T) {
	c := newChainsOf(50)
	for i := range 200 {
		c.put(fmt.Sprintf("conveyor.events.run.%d", i), []link{{seq: uint64(i + 1), data: []byte(`{}`)}})
		if i > 100 {
			c.get("conveyor.events.run.100") // in use
		}
	}
	if n := c.len(); n != 50 {
		t.Errorf("%d chains held after 200, want the bound, 50", n)
	}
	if c.get("conveyor.events.run.0") != nil || c.get("conveyor.events.run.100") == nil || c.get("conveyor.events.run.199") == nil {
		t.Error("want the oldest forgotten, the one in use and the newest held")
	}
}

// The sole writer's index of last sequences holds at most its bound, and
// never moves a subject back.
func TestIndexStaysWithinItsBound(t *testing.T) {
	ix := newIndexOf(50)
	for i := range 200 {
		ix.moved(fmt.Sprintf("conveyor.events.run.%d", i), uint64(i+1))
	}
	if n := ix.len(); n != 50 {
		t.Errorf("%d subjects known after 200, want the bound, 50", n)
	}
	if _, ok := ix.lookup("conveyor.events.run.0"); ok {
		t.Error("the oldest subject is still known")
	}
	ix.moved("conveyor.events.run.199", 7)
	if seq, ok := ix.lookup("conveyor.events.run.199"); !ok || seq != 200 {
		t.Errorf("subject moved back to %d (%v), want 200", seq, ok)
	}
}

// Dropping every chain leaves none held.
func TestChainsAreAllDropped(t *testing.T) {
	c := newChainsOf(50)
	for i := range 20 {
		c.put(fmt.Sprintf("conveyor.events.run.%d", i), []link{{seq: uint64(i + 1), data: []byte(`{}`)}})
	}
	c.dropAll()
	if n := c.len(); n != 0 || c.get("conveyor.events.run.19") != nil {
		t.Errorf("%d chains held after dropping them all", n)
	}
}
