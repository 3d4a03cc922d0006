package domain

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// AggregateConcurrency is the aggregate of a concurrency group: which runs
// (or steps of runs) hold its places and which wait, in order. Its stream is one per group,
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

// Holder is what takes a place in a concurrency group: a run, when its
// pipeline names the group (Step empty), or one step of a run, when the
// step does. The group's events name a step holder's step in an optional
// field, so the events of run holders read as they always did.
type Holder struct {
	RunID string `json:"runId"`
	Step  string `json:"step,omitempty"`
}

// Key is the holder as the group's state lists it: the run id for a run,
// {run id}/{step} for a step (step ids hold no slash).
func (h Holder) Key() string {
	if h.Step == "" {
		return h.RunID
	}
	return h.RunID + "/" + h.Step
}

// String names the holder in a reason: "run X" or "step S of run X".
func (h Holder) String() string {
	if h.Step == "" {
		return "run " + h.RunID
	}
	return "step " + h.Step + " of run " + h.RunID
}

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
	// Step is the step of the run that took the place; empty when the run
	// did (its pipeline names the group).
	Step  string `json:"step,omitempty"`
	Order uint64 `json:"order,omitempty"`
}

// Holder is the run or step admitted.
func (e *GroupRunAdmitted) Holder() Holder { return Holder{RunID: e.RunID, Step: e.Step} }

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
	Step  string `json:"step,omitempty"`
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
	Step   string `json:"step,omitempty"`
	Reason string `json:"reason"`
	Cancel bool   `json:"cancel,omitempty"`
}

// Holder is the run or step released.
func (e *GroupRunReleased) Holder() Holder { return Holder{RunID: e.RunID, Step: e.Step} }

func init() {
	register(TypeGroupRunAdmitted, func() Event { return &GroupRunAdmitted{} })
	register(TypeGroupRunQueued, func() Event { return &GroupRunQueued{} })
	register(TypeGroupRunReleased, func() Event { return &GroupRunReleased{} })
}

// QueuedRun is a run, or a step of a run, that waits in a group, with its
// limit.
type QueuedRun struct {
	RunID string `json:"runId"`
	Step  string `json:"step,omitempty"`
	Limit int    `json:"limit"`
	Order uint64 `json:"order,omitempty"`
}

func (q QueuedRun) holder() Holder { return Holder{RunID: q.RunID, Step: q.Step} }

// ConcurrencyGroup is a group's state: the holders of places (their
// Holder.Key), in the order they took them, and the runs and steps
// waiting, first in first out.
type ConcurrencyGroup struct {
	Name    string      `json:"name"`
	Running []string    `json:"running"`
	Queued  []QueuedRun `json:"queued"`
}

// Position is the run's place in the queue, 1 for the next to start; 0
// when it does not wait. key is a Holder.Key: the run id for a run.
func (g ConcurrencyGroup) Position(key string) int {
	return g.queuedIndex(key) + 1
}

func (g ConcurrencyGroup) queuedIndex(key string) int {
	return slices.IndexFunc(g.Queued, func(q QueuedRun) bool { return q.holder().Key() == key })
}

// GroupAggregate is the Concurrency group aggregate.
type GroupAggregate struct {
	state ConcurrencyGroup
	// orders are the known orders of the runs holding places.
	orders  map[string]uint64
	version uint64
	changes []Event
	// sinceSnapshot counts the events applied since the last snapshot.
	sinceSnapshot int
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
	a.sinceSnapshot++
	switch e := e.(type) {
	case *GroupSnapshot:
		a.restore(e)
	case *GroupRunAdmitted:
		g.Name = e.Group
		key := e.Holder().Key()
		order := e.Order
		if i := g.queuedIndex(key); i >= 0 && order == 0 {
			order = g.Queued[i].Order
		}
		g.Queued = slices.DeleteFunc(g.Queued, func(q QueuedRun) bool { return q.holder().Key() == key })
		if !slices.Contains(g.Running, key) {
			g.Running = append(g.Running, key)
		}
		if order > 0 {
			if a.orders == nil {
				a.orders = map[string]uint64{}
			}
			a.orders[key] = order
		}
	case *GroupRunQueued:
		g.Name = e.Group
		if g.queuedIndex(Holder{RunID: e.RunID, Step: e.Step}.Key()) < 0 {
			// Behind every run queued at or before its position; a run of
			// unknown position goes last.
			at := len(g.Queued)
			if e.Order > 0 {
				at = slices.IndexFunc(g.Queued, func(q QueuedRun) bool { return q.Order > e.Order })
				if at < 0 {
					at = len(g.Queued)
				}
			}
			g.Queued = slices.Insert(g.Queued, at, QueuedRun{RunID: e.RunID, Step: e.Step, Limit: e.Limit, Order: e.Order})
		}
	case *GroupRunReleased:
		g.Name = e.Group
		key := e.Holder().Key()
		g.Running = slices.DeleteFunc(g.Running, func(k string) bool { return k == key })
		delete(a.orders, key)
		g.Queued = slices.DeleteFunc(g.Queued, func(q QueuedRun) bool { return q.holder().Key() == key })
	}
	a.version = e.EventMeta().Version
}

func (a *GroupAggregate) record(e Event) {
	a.Apply(e)
	a.changes = append(a.changes, e)
}

// meta is the metadata of the next event, about holder h: each event of
// one decision gets an id derived from the decision's and the holder's, so
// that the events of one message have ids of their own.
func (a *GroupAggregate) meta(typ string, h Holder, c Cause) Meta {
	c.EventID = uuid.NewSHA1(groupIDs, []byte(c.EventID+"/"+typ+"/"+h.Key())).String()
	if c.CorrelationID == "" {
		c.CorrelationID = h.RunID
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
// the group, under its limit and onFull: JoinAs for the run as the holder.
func (a *GroupAggregate) Join(runID string, limit int, onFull string, order uint64, c Cause) JoinOutcome {
	return a.JoinAs(Holder{RunID: runID}, limit, onFull, order, c)
}

// JoinAs decides what holder h (a run, or a step of a run), queued at log
// position order, does in the group, under its limit and onFull: a holder
// the group holds already records nothing and keeps what it has. A holder
// takes a free place only when none waits (first in, first out); when
// there is none, it waits (queue), releases the oldest holder for
// cancellation and takes its place (cancel-running; but when every holder
// was made after it, it is superseded instead, nothing recorded), or is
// skipped (skip, nothing recorded). Runs made at once reach the group in
// the order the engine gets to them, which need not be the order they
// were made.
func (a *GroupAggregate) JoinAs(h Holder, limit int, onFull string, order uint64, c Cause) JoinOutcome {
	g := a.state
	key := h.Key()
	switch {
	case slices.Contains(g.Running, key):
		return Admitted
	case g.queuedIndex(key) >= 0:
		return Queued
	case len(g.Running) < limit && len(g.Queued) == 0:
		a.admit(h, order, c)
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
			oldest := holderOf(g.Running[0])
			a.record(&GroupRunReleased{Meta: a.meta(TypeGroupRunReleased, oldest, c), Group: g.Name, RunID: oldest.RunID, Step: oldest.Step, Cancel: true,
				Reason: fmt.Sprintf("cancelled for %s, which took its place in concurrency group %q (cancel-running)", h, g.Name)})
			a.admit(h, order, c)
			return Admitted
		}
	}
	a.record(&GroupRunQueued{Meta: a.meta(TypeGroupRunQueued, h, c), Group: g.Name, RunID: h.RunID, Step: h.Step, Limit: limit, Order: order})
	return Queued
}

func (a *GroupAggregate) admit(h Holder, order uint64, c Cause) {
	a.record(&GroupRunAdmitted{Meta: a.meta(TypeGroupRunAdmitted, h, c), Group: a.state.Name, RunID: h.RunID, Step: h.Step, Order: order})
}

// holderOf is the holder of a key of the group's state.
func holderOf(key string) Holder {
	run, step, _ := strings.Cut(key, "/")
	return Holder{RunID: run, Step: step}
}

// newerThanAll reports whether every holder of a place is known to have
// been made after the run of order (0: unknown, never).
func (a *GroupAggregate) newerThanAll(order uint64) bool {
	if order == 0 || len(a.state.Running) == 0 {
		return false
	}
	for _, key := range a.state.Running {
		if o := a.orders[key]; o == 0 || o <= order {
			return false
		}
	}
	return true
}

// Leave releases the run from the group: LeaveAs for the run as the
// holder. It returns the keys of the holders admitted (Holder.Key: a run's
// id for a run).
func (a *GroupAggregate) Leave(runID, reason string, c Cause) []string {
	var keys []string
	for _, h := range a.LeaveAs(Holder{RunID: runID}, reason, c) {
		keys = append(keys, h.Key())
	}
	return keys
}

// LeaveAs releases holder h from the group, as reason says (it ended, or
// was cancelled while it waited), and admits the holders at the head of
// the queue that the freed place lets in, each under its own limit. A
// holder the group does not hold records nothing. It returns the holders
// admitted.
func (a *GroupAggregate) LeaveAs(h Holder, reason string, c Cause) []Holder {
	g := a.state
	key := h.Key()
	if !slices.Contains(g.Running, key) && g.queuedIndex(key) < 0 {
		return nil
	}
	a.record(&GroupRunReleased{Meta: a.meta(TypeGroupRunReleased, h, c), Group: g.Name, RunID: h.RunID, Step: h.Step, Reason: reason})
	var admitted []Holder
	for len(a.state.Queued) > 0 && len(a.state.Running) < a.state.Queued[0].Limit {
		next := a.state.Queued[0]
		a.admit(next.holder(), next.Order, c)
		admitted = append(admitted, next.holder())
	}
	return admitted
}
