package domain

import (
	"maps"
	"slices"
)

// TypeGroupSnapshot is the event that holds a concurrency group's whole
// state.
const TypeGroupSnapshot = "ConcurrencyGroupSnapshot.v1"

// groupSnapshotEvery is how many events of a group may follow its last
// snapshot before a decision records another: loading a group reads at
// most that many events and its snapshot, however many runs went through
// it since it was made.
const groupSnapshotEvery = 64

// GroupSnapshot holds a concurrency group's state as the events before it
// left it: the holders of its places with their orders, and the queue. It
// is always the last event of its message, so loading the group needs
// nothing stored before that message.
type GroupSnapshot struct {
	Meta
	State  ConcurrencyGroup  `json:"state"`
	Orders map[string]uint64 `json:"orders,omitempty"`
}

func (*GroupSnapshot) holdsWholeState() {}

// Snapshot is an event that holds its aggregate's whole state: applying
// it replaces what the events before it made.
type Snapshot interface {
	Event
	holdsWholeState()
}

// IsSnapshot reports whether e holds its aggregate's whole state.
func IsSnapshot(e Event) bool {
	_, ok := e.(Snapshot)
	return ok
}

func init() {
	register(TypeGroupSnapshot, func() Event { return &GroupSnapshot{} })
}

// SnapshotIfDue records the group's state after the events this decision
// recorded, when groupSnapshotEvery or more events came since the last
// snapshot (or since the group began). A decision that recorded nothing
// records no snapshot either. The snapshot is caused by the decision's
// first event, and its id derives from that event's.
func (a *GroupAggregate) SnapshotIfDue() {
	if len(a.changes) == 0 || a.sinceSnapshot < groupSnapshotEvery {
		return
	}
	first := a.changes[0].EventMeta()
	c := Cause{EventID: first.ID, Time: first.Time, CorrelationID: first.CorrelationID, CausationID: first.ID}
	a.record(&GroupSnapshot{Meta: a.meta(TypeGroupSnapshot, Holder{}, c), State: a.state.clone(), Orders: maps.Clone(a.orders)})
}

// restore replaces the group's state with the snapshot's.
func (a *GroupAggregate) restore(s *GroupSnapshot) {
	a.state = s.State.clone()
	a.orders = maps.Clone(s.Orders)
	a.sinceSnapshot = 0
}

func (g ConcurrencyGroup) clone() ConcurrencyGroup {
	return ConcurrencyGroup{Name: g.Name, Running: slices.Clone(g.Running), Queued: slices.Clone(g.Queued)}
}
