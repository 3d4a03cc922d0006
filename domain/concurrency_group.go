package domain

import (
	"fmt"
	"slices"

	"github.com/google/uuid"
)

// AggregateConcurrency is the aggregate of a concurrency group: which runs
// hold its places and which wait, in order. Its stream is one per group,
// so the event store's guard on the group's last position makes two
// servers that admit runs at once take turns: one appends, the other reads
// the group again and decides anew.
const AggregateConcurrency = "concurrency"

// groupIDs is the namespace of the ids of concurrency groups and of the
// events derived from another.
var groupIDs = uuid.MustParse("0f7c4d7e-3a8b-4e55-b0a1-6d2c9e8f1a34")

// GroupID is the aggregate id of the group named name: group names are any
// string an expression gives, ids must be subject tokens.
func GroupID(name string) string { return uuid.NewSHA1(groupIDs, []byte(name)).String() }

// Concurrency group events.
const (
	TypeGroupRunAdmitted = "ConcurrencyRunAdmitted.v1"
	TypeGroupRunQueued   = "ConcurrencyRunQueued.v1"
	TypeGroupRunReleased = "ConcurrencyRunReleased.v1"
)

// GroupRunAdmitted: a run took a place in the group; the engine lets it
// run (RunAdmitted). Order is the log position of the change that made the
// run (0: unknown), so a run made before it can tell that it came later.
type GroupRunAdmitted struct {
	Meta
	Group string `json:"group"`
	RunID string `json:"runId"`
	Order uint64 `json:"order,omitempty"`
}

// GroupRunQueued: a run found the group full and waits, behind the runs
// queued before it. Limit is the run's limit: it is admitted once fewer
// runs than that hold places. Order is the log position where the run
// was queued (0: unknown): the queue keeps runs in that order, so runs that
// reach the group in another order than they were made (two servers, two
// workers) still start first in, first out.
type GroupRunQueued struct {
	Meta
	Group string `json:"group"`
	RunID string `json:"runId"`
	Limit int    `json:"limit"`
	Order uint64 `json:"order,omitempty"`
}

// GroupRunReleased: a run left the group: it ended, or was cancelled while
// it waited. Cancel says that the group took its place for a newer run
// (cancel-running): the engine cancels it.
type GroupRunReleased struct {
	Meta
	Group  string `json:"group"`
	RunID  string `json:"runId"`
	Reason string `json:"reason"`
	Cancel bool   `json:"cancel,omitempty"`
}

func init() {
	register(TypeGroupRunAdmitted, func() Event { return &GroupRunAdmitted{} })
	register(TypeGroupRunQueued, func() Event { return &GroupRunQueued{} })
	register(TypeGroupRunReleased, func() Event { return &GroupRunReleased{} })
}

// QueuedRun is a run that waits in a group, with its limit.
type QueuedRun struct {
	RunID string `json:"runId"`
	Limit int    `json:"limit"`
	Order uint64 `json:"order,omitempty"`
}

// ConcurrencyGroup is a group's state: the runs holding places, in the
// order they took them, and the runs waiting, first in first out.
type ConcurrencyGroup struct {
	Name    string      `json:"name"`
	Running []string    `json:"running"`
	Queued  []QueuedRun `json:"queued"`
}

// Position is the run's place in the queue, 1 for the next to start; 0
// when it does not wait.
func (g ConcurrencyGroup) Position(runID string) int {
	return g.queuedIndex(runID) + 1
}

func (g ConcurrencyGroup) queuedIndex(runID string) int {
	return slices.IndexFunc(g.Queued, func(q QueuedRun) bool { return q.RunID == runID })
}

// GroupAggregate is the Concurrency group aggregate.
type GroupAggregate struct {
	state ConcurrencyGroup
	// orders are the known orders of the runs holding places.
	orders  map[string]uint64
	version uint64
	changes []Event
}

// NewGroup is the aggregate of the group named name, before its events are
// applied.
func NewGroup(name string) *GroupAggregate {
	return &GroupAggregate{state: ConcurrencyGroup{Name: name}}
}

// State is the group as its events leave it.
func (a *GroupAggregate) State() ConcurrencyGroup { return a.state }

// Version is the aggregate version: the number of events applied.
func (a *GroupAggregate) Version() uint64 { return a.version }

// Changes are the events recorded since the aggregate was loaded.
func (a *GroupAggregate) Changes() []Event { return a.changes }

// Apply folds one event into the group.
func (a *GroupAggregate) Apply(e Event) {
	g := &a.state
	switch e := e.(type) {
	case *GroupRunAdmitted:
		g.Name = e.Group
		order := e.Order
		if i := g.queuedIndex(e.RunID); i >= 0 && order == 0 {
			order = g.Queued[i].Order
		}
		g.Queued = slices.DeleteFunc(g.Queued, func(q QueuedRun) bool { return q.RunID == e.RunID })
		if !slices.Contains(g.Running, e.RunID) {
			g.Running = append(g.Running, e.RunID)
		}
		if order > 0 {
			if a.orders == nil {
				a.orders = map[string]uint64{}
			}
			a.orders[e.RunID] = order
		}
	case *GroupRunQueued:
		g.Name = e.Group
		if g.queuedIndex(e.RunID) < 0 {
			// Behind every run queued at or before its position; a run of
			// unknown position goes last.
			at := len(g.Queued)
			if e.Order > 0 {
				at = slices.IndexFunc(g.Queued, func(q QueuedRun) bool { return q.Order > e.Order })
				if at < 0 {
					at = len(g.Queued)
				}
			}
			g.Queued = slices.Insert(g.Queued, at, QueuedRun{RunID: e.RunID, Limit: e.Limit, Order: e.Order})
		}
	case *GroupRunReleased:
		g.Name = e.Group
		g.Running = slices.DeleteFunc(g.Running, func(id string) bool { return id == e.RunID })
		delete(a.orders, e.RunID)
		g.Queued = slices.DeleteFunc(g.Queued, func(q QueuedRun) bool { return q.RunID == e.RunID })
	}
	a.version = e.EventMeta().Version
}

func (a *GroupAggregate) record(e Event) {
	a.Apply(e)
	a.changes = append(a.changes, e)
}

// meta is the metadata of the next event, about run: each event of one
// decision gets an id derived from the decision's and the run's, so that
// the events of one message have ids of their own.
func (a *GroupAggregate) meta(typ, runID string, c Cause) Meta {
	c.EventID = uuid.NewSHA1(groupIDs, []byte(c.EventID+"/"+typ+"/"+runID)).String()
	if c.CorrelationID == "" {
		c.CorrelationID = runID
	}
	return c.meta(typ, AggregateConcurrency, GroupID(a.state.Name), a.version+1)
}

// JoinOutcome is what joining a group gave a run.
type JoinOutcome string

// What joining a group gives a run.
const (
	// Admitted: the run holds a place (it took one, or held it already).
	Admitted JoinOutcome = "admitted"
	// Queued: the run waits (it queued, or waited already).
	Queued JoinOutcome = "queued"
	// Skipped: the group was full and the run's onFull is skip: it never
	// entered the group and must end.
	Skipped JoinOutcome = "skipped"
	// Superseded: the group was full of runs made after this one and its
	// onFull is cancel-running: an older run never cancels a newer one, so
	// it never entered the group and must end.
	Superseded JoinOutcome = "superseded"
)

// Join decides what the run runID, queued at log position order, does in
// the group, under its limit and onFull: a run the group holds already records
// nothing and keeps what it has. A run takes a free place only when no run
// waits (first in, first out); when there is none, it waits (queue),
// releases the oldest running run for cancellation and takes its place
// (cancel-running; but when every running run was made after it, it is
// superseded instead, nothing recorded), or is skipped (skip, nothing
// recorded). Runs made at once reach the group in the order the engine
// gets to them, which need not be the order they were made.
func (a *GroupAggregate) Join(runID string, limit int, onFull string, order uint64, c Cause) JoinOutcome {
	g := a.state
	switch {
	case slices.Contains(g.Running, runID):
		return Admitted
	case g.queuedIndex(runID) >= 0:
		return Queued
	case len(g.Running) < limit && len(g.Queued) == 0:
		a.record(&GroupRunAdmitted{Meta: a.meta(TypeGroupRunAdmitted, runID, c), Group: g.Name, RunID: runID, Order: order})
		return Admitted
	}
	switch onFull {
	case OnFullSkip:
		return Skipped
	case OnFullCancelRunning:
		if a.newerThanAll(order) {
			return Superseded
		}
		if len(g.Running) > 0 {
			oldest := g.Running[0]
			a.record(&GroupRunReleased{Meta: a.meta(TypeGroupRunReleased, oldest, c), Group: g.Name, RunID: oldest, Cancel: true,
				Reason: fmt.Sprintf("cancelled for run %s, which took its place in concurrency group %q (cancel-running)", runID, g.Name)})
			a.record(&GroupRunAdmitted{Meta: a.meta(TypeGroupRunAdmitted, runID, c), Group: g.Name, RunID: runID, Order: order})
			return Admitted
		}
	}
	a.record(&GroupRunQueued{Meta: a.meta(TypeGroupRunQueued, runID, c), Group: g.Name, RunID: runID, Limit: limit, Order: order})
	return Queued
}

// newerThanAll reports whether every run holding a place is known to have
// been made after the run of order (0: unknown, never).
func (a *GroupAggregate) newerThanAll(order uint64) bool {
	if order == 0 || len(a.state.Running) == 0 {
		return false
	}
	for _, id := range a.state.Running {
		if o := a.orders[id]; o == 0 || o <= order {
			return false
		}
	}
	return true
}

// Leave releases the run from the group, as reason says (it ended, or was
// cancelled while it waited), and admits the runs at the head of the queue
// that the freed place lets in, each under its own limit. A run the group
// does not hold records nothing. It returns the ids of the runs admitted.
func (a *GroupAggregate) Leave(runID, reason string, c Cause) []string {
	g := a.state
	if !slices.Contains(g.Running, runID) && g.queuedIndex(runID) < 0 {
		return nil
	}
	a.record(&GroupRunReleased{Meta: a.meta(TypeGroupRunReleased, runID, c), Group: g.Name, RunID: runID, Reason: reason})
	var admitted []string
	for len(a.state.Queued) > 0 && len(a.state.Running) < a.state.Queued[0].Limit {
		next := a.state.Queued[0]
		a.record(&GroupRunAdmitted{Meta: a.meta(TypeGroupRunAdmitted, next.RunID, c), Group: g.Name, RunID: next.RunID, Order: next.Order})
		admitted = append(admitted, next.RunID)
	}
	return admitted
}
