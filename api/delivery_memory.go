package api

import (
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Bounds of what a replica remembers of the deliveries that wrote nothing:
// the latest keptInMemory of each trigger, for the triggersInMemory
// triggers that had one most recently. At most 256 × 50 small records
// (no body, no signature, each field bounded), whatever is sent.
const (
	keptInMemory     = 50
	triggersInMemory = 256
	// maxHookField bounds the event and the delivery id remembered, as
	// the sender chose them; maxHookReason the answer's reason.
	maxHookField  = 128
	maxHookReason = 512
)

// Where a listed delivery is kept.
const (
	keptLog    = "log"    // it wrote its resource: TriggerFired, in the log
	keptMemory = "memory" // it wrote nothing: in the memory of the replica that answered
)

// rememberedDelivery is a delivery that wrote nothing, as a replica
// remembers it: when, the event and delivery id its headers named, and the
// answer (its status and why).
type rememberedDelivery struct {
	Time     time.Time
	Event    string
	Delivery string
	Status   int
	Reason   string
}

// deliveryMemory is the latest deliveries that wrote nothing, per trigger,
// kept in this replica's memory only: they write nothing to the log, by
// design, and are lost on restart. Bounded (see keptInMemory). Safe for
// concurrent use.
type deliveryMemory struct {
	mu       sync.Mutex
	triggers *simplelru.LRU[string, []rememberedDelivery]
}

func newDeliveryMemory() *deliveryMemory {
	l, err := simplelru.NewLRU[string, []rememberedDelivery](triggersInMemory, nil)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &deliveryMemory{triggers: l}
}

// add remembers d of trigger, letting go of the trigger's oldest past
// keptInMemory, and of the trigger that had none for the longest past
// triggersInMemory. Its fields are cut to their bounds (cut).
func (m *deliveryMemory) add(trigger string, d rememberedDelivery) {
	d.Event, d.Delivery, d.Reason = cut(d.Event, maxHookField), cut(d.Delivery, maxHookField), cut(d.Reason, maxHookReason)
	m.mu.Lock()
	defer m.mu.Unlock()
	kept, _ := m.triggers.Get(trigger)
	if len(kept) >= keptInMemory {
		kept = slices.Clone(kept[len(kept)-keptInMemory+1:]) // a fresh array: a reader may hold the old one
	}
	m.triggers.Add(trigger, append(kept, d))
}

// recent are trigger's remembered deliveries, newest first.
func (m *deliveryMemory) recent(trigger string) []rememberedDelivery {
	m.mu.Lock()
	kept, _ := m.triggers.Peek(trigger)
	m.mu.Unlock()
	out := slices.Clone(kept)
	slices.Reverse(out)
	return out
}

// forget lets go of trigger's deliveries (it was deleted).
func (m *deliveryMemory) forget(trigger string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.triggers.Remove(trigger)
}

// size is how many triggers and deliveries are remembered.
func (m *deliveryMemory) size() (triggers, deliveries int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.triggers.Keys() {
		kept, _ := m.triggers.Peek(k)
		deliveries += len(kept)
	}
	return m.triggers.Len(), deliveries
}
