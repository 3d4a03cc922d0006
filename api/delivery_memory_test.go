package api

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestDeliveryMemoryStaysWithinItsBound: however many deliveries to however
// many triggers, a replica remembers at most keptInMemory of each, for at
// most triggersInMemory triggers, each field cut to its bound; a trigger's
// come newest first, and the triggers let go of are those with none for
// the longest.
func TestDeliveryMemoryStaysWithinItsBound(t *testing.T) {
	m := newDeliveryMemory()
	long := strings.Repeat("x", 10_000)
	at := time.Unix(0, 0)
	for i := range 2 * triggersInMemory {
		for j := range keptInMemory + 7 {
			at = at.Add(time.Second)
			m.add(fmt.Sprintf("t%d", i), rememberedDelivery{Time: at, Event: long, Delivery: fmt.Sprintf("d%d", j), Status: 401, Reason: long})
		}
		if triggers, deliveries := m.size(); triggers > triggersInMemory || deliveries > triggersInMemory*keptInMemory {
			t.Fatalf("after %d triggers: %d triggers and %d deliveries remembered, bound %d and %d",
				i+1, triggers, deliveries, triggersInMemory, triggersInMemory*keptInMemory)
		}
	}
	if triggers, deliveries := m.size(); triggers != triggersInMemory || deliveries != triggersInMemory*keptInMemory {
		t.Errorf("%d triggers and %d deliveries remembered, want %d and %d", triggers, deliveries, triggersInMemory, triggersInMemory*keptInMemory)
	}
	if got := m.recent("t0"); len(got) != 0 {
		t.Errorf("the trigger with none for the longest still has %d", len(got))
	}
	last := fmt.Sprintf("t%d", 2*triggersInMemory-1)
	got := m.recent(last)
	if len(got) != keptInMemory || got[0].Delivery != fmt.Sprintf("d%d", keptInMemory+6) || got[keptInMemory-1].Delivery != "d7" {
		t.Fatalf("%s: %d remembered, from %s to %s; want %d, d%d to d7", last, len(got), got[0].Delivery, got[len(got)-1].Delivery,
			keptInMemory, keptInMemory+6)
	}
	if d := got[0]; len(d.Event) > maxHookField+32 || len(d.Reason) > maxHookReason+32 || !d.Time.After(got[1].Time) {
		t.Errorf("a remembered delivery: event %d bytes, reason %d bytes (bounds %d, %d), time %v after %v",
			len(d.Event), len(d.Reason), maxHookField, maxHookReason, d.Time, got[1].Time)
	}
	m.forget(last)
	if got := m.recent(last); len(got) != 0 {
		t.Errorf("a deleted trigger's deliveries: %d", len(got))
	}
}
