package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/conveyor/conveyor/domain"
)

// runChanged folds a run event into runs/{id}. RunStarted also writes the
// run's index entries; a recorded (not ignored) driver result also lands in
// the resource's metadata under driverresults.{driver}, in the current
// resource and in the version the run started from.
func (c *change) runChanged(ctx context.Context, e domain.Event) error {
	m := e.EventMeta()
	key := runKey(m.AggregateID)
	if started, ok := e.(*domain.RunStarted); ok {
		run := domain.RunAggregate{}
		run.Apply(started)
		return c.runWritten(ctx, nil, record[domain.Run]{Value: run.State(), AggregateVersion: m.Version, Sequence: m.Sequence})
	}
	v, err := c.lookup(ctx, key)
	if err != nil {
		return err
	}
	stored, kept, err := c.storedRun(ctx, key, v, m)
	if err != nil {
		return err
	}
	// Apply changes the steps in place: it works on a copy, so that the
	// run kept decoded stays as it was stored.
	run := domain.RestoreRun(stored.Value.Clone(), stored.AggregateVersion)
	run.Apply(e)
	if !kept && stored.Value.Ended() && run.State().Ended() {
		// A run let go of, still ended (a late result, ignored): the log
		// holds the change, and the read models stay without it.
		return nil
	}
	before := &stored
	if !kept {
		before = nil
	}
	if err := c.runWritten(ctx, before, record[domain.Run]{Value: run.State(), AggregateVersion: m.Version, Sequence: m.Sequence}); err != nil {
		return err
	}
	if r, ok := e.(*domain.DriverResultRecorded); ok && r.Ignored == "" {
		return c.resultIntoResource(ctx, run.State(), r)
	}
	return nil
}

// storedRun is the run an event of it (m) applies to: the one the read
// models hold (kept), else the one the log holds, brought back.
func (c *change) storedRun(ctx context.Context, key string, v value, m *domain.Meta) (stored record[domain.Run], kept bool, err error) {
	if v.present {
		stored, err = c.decodedRun(key, v)
		return stored, true, err
	}
	stored, ok, err := c.archivedRun(ctx, m.AggregateID, m.Sequence)
	if err == nil && !ok {
		err = fmt.Errorf("run %s has no RunStarted before it", m.AggregateID)
	}
	return stored, false, err
}

// runWritten writes a run that was before (nil: not in the read models, as
// a run just started or one brought back from the log) and its index
// entries, and keeps the ended runs' numbers: a run that just ended gets
// the next, one retried gives its number up.
func (c *change) runWritten(ctx context.Context, before *record[domain.Run], after record[domain.Run]) error {
	state := after.Value
	var was *domain.Run
	if before != nil {
		was = &before.Value
	}
	switch {
	case state.Ended() && (was == nil || !was.Ended()):
		n, err := c.runEnded(ctx, state)
		if err != nil {
			return err
		}
		after.Ended = n
	case state.Ended():
		after.Ended = before.Ended
	case was != nil && was.Ended() && before.Ended > 0:
		c.del(runEndedKey(before.Ended))
	}
	c.putRun(runKey(state.ID), after)
	if was == nil {
		for _, k := range runIndexKeys(state.ID, state.StartedAt, state.Resource.Type, state.Resource.Name, state.Pipeline.Name) {
			c.put(k, []byte(state.ID))
		}
	}
	c.moveRunIndexes(was, state)
	return nil
}

// moveRunIndexes keeps the run's keys in the status and deadline indexes
// in step with the event that changed it from before (nil: it just started)
// to after: a key moves only when its status or next due time changed.
func (c *change) moveRunIndexes(before *domain.Run, after domain.Run) {
	for _, op := range runIndexMoves(before, after) {
		if op.Delete {
			c.del(op.Key)
		} else {
			c.put(op.Key, op.Value)
		}
	}
}

// runIndexMoves are the writes that take a run's status and deadline keys
// from before (nil: none yet) to after.
func runIndexMoves(before *domain.Run, after domain.Run) []Op {
	var ops []Op
	if before == nil || before.Status != after.Status {
		if before != nil {
			ops = append(ops, Op{Key: runStatusKey(before.ID, before.StartedAt, before.Status), Delete: true})
		}
		ops = append(ops, Op{Key: runStatusKey(after.ID, after.StartedAt, after.Status), Value: []byte(after.ID)})
	}
	var was *time.Time
	if before != nil {
		was = before.NextDue()
	}
	due := after.NextDue()
	if was != nil && (due == nil || !was.Equal(*due)) {
		ops = append(ops, Op{Key: runDeadlineKey(after.ID, *was), Delete: true})
	}
	if due != nil && (was == nil || !was.Equal(*due)) {
		ops = append(ops, Op{Key: runDeadlineKey(after.ID, *due), Value: []byte(after.ID)})
	}
	return ops
}

func (c *change) resultIntoResource(ctx context.Context, run domain.Run, r *domain.DriverResultRecorded) error {
	res := run.Resource
	for _, key := range []string{resourceKey(res.Type, res.Name), resourceVersionKey(res.Type, res.Name, res.Version())} {
		kv, ok, err := c.get(ctx, key)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		stored, err := decodeWith[domain.Resource](kv, c.b.p.unmarshal)
		if err != nil {
			return err
		}
		if stored.Value.ID != res.ID {
			continue // deleted and created again since: not this resource
		}
		meta := make(map[string]string, len(stored.Value.Metadata)+1)
		for k, v := range stored.Value.Metadata {
			meta[k] = v
		}
		meta[domain.MetaResultPrefix+r.Result.Driver] = domain.ResultJSON(r.Result)
		stored.Value.Metadata = meta
		c.put(key, encodeRecord(stored))
	}
	return nil
}

// putRun writes a run, and keeps it decoded for its next event. In an
// unsized batch it is encoded by Ops, once.
func (c *change) putRun(key string, r record[domain.Run]) {
	var data []byte
	if !c.b.unsized {
		data = encodeRecord(r)
	}
	c.put(key, data)
	c.pending[key] = value{data: data, present: true, run: &r}
}
