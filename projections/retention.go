package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/conveyor/conveyor/domain"
)

// Retention is what the read models keep of runs that ended. The log keeps
// every run for good; the read models keep the runs in flight and the last
// EndedRuns that ended, so that what etcd holds follows the work, not the
// history. A run they no longer hold is read from the log by its id
// (ReadModel.Run) and comes back into them when something happens to it
// again (a retry).
type Retention struct {
	// EndedRuns is how many ended runs the read models keep, the latest to
	// end; 0 keeps them all.
	EndedRuns int
	// Archive reads the events of a run from the log, in order: how the
	// projector finds a run it let go of when an event of it comes (nil:
	// such an event is an error, as for a run never started).
	Archive func(ctx context.Context, runID string) ([]domain.Event, error)
}

// runsEndedKey counts the runs that ended, ever: the ordinal of the last.
// It is a checkpoint of the projection, not a value of it (Diff leaves it
// out), so that read models upgraded from a layout without it compare
// equal to a rebuild.
const runsEndedKey = checkpointsPrefix + "runs-ended"

// runEndedKey holds the entry (endedEntry) of the run that was the
// ordinal-th to end while it is kept: the order in which the read models
// let ended runs go.
func runEndedKey(ordinal uint64) string { return fmt.Sprintf("%s%020d", runsEndedPrefix, ordinal) }

// evictSweep is how often, in ended runs, the projector looks for ended
// runs kept beyond EndedRuns besides the one each end replaces (left over
// from a lowered EndedRuns), and how many it lets go of then: one read of
// the store per evictSweep ends, and the excess drains by one a run.
const evictSweep = 16

// endedEntry is the value of a run's key among the ended runs: its id and
// every key it has in the read models, so that letting go of it reads
// nothing else.
type endedEntry struct {
	ID   string   `json:"id"`
	Keys []string `json:"keys"`
}

// endedValue is run's entry among the ended runs.
func endedValue(run domain.Run) []byte {
	entry, _ := json.Marshal(endedEntry{ID: run.ID, Keys: runKeys(run)})
	return entry
}

// runEnded gives the run that just ended its number, and lets go of the
// run that ended EndedRuns ends before it.
func (c *change) runEnded(ctx context.Context, run domain.Run) (uint64, error) {
	kv, _, err := c.get(ctx, runsEndedKey)
	if err != nil {
		return 0, err
	}
	n, _ := strconv.ParseUint(string(kv.Value), 10, 64)
	n++
	c.put(runsEndedKey, []byte(strconv.FormatUint(n, 10)))
	c.put(runEndedKey(n), endedValue(run))
	keep := uint64(c.b.p.retention.EndedRuns)
	if keep == 0 || n <= keep {
		return n, nil
	}
	if err := c.evictEnded(ctx, runEndedKey(n-keep)); err != nil || n%evictSweep != 0 {
		return n, err
	}
	return n, c.sweepEnded(ctx, n-keep)
}

// sweepEnded lets go of up to evictSweep runs that ended before the
// ordinal-th and are still kept. Only the store is asked: what this batch
// wrote ended later.
func (c *change) sweepEnded(ctx context.Context, ordinal uint64) error {
	kvs, _, err := c.b.p.store.List(ctx, runsEndedPrefix, "", evictSweep)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		if kv.Key >= runEndedKey(ordinal) {
			break
		}
		if err := c.evictEnded(ctx, kv.Key); err != nil {
			return err
		}
	}
	return nil
}

// evictEnded removes the run an ended key names, and the key. A run holds
// such a key only while it is ended: a retry gives it up.
func (c *change) evictEnded(ctx context.Context, key string) error {
	kv, ok, err := c.get(ctx, key)
	if err != nil || !ok {
		return err
	}
	var entry endedEntry
	if err := json.Unmarshal(kv.Value, &entry); err != nil {
		return fmt.Errorf("read model %s is corrupt: %w", key, err)
	}
	c.del(key)
	for _, k := range entry.Keys {
		c.del(k)
	}
	return nil
}

// runKeys are every key the read models hold for run: its value, its
// entries in the indexes, and its statuses given up (which may come after
// it ended, so the key is named whether it exists yet or not).
func runKeys(r domain.Run) []string {
	keys := append([]string{runKey(r.ID), runStatusKey(r.ID, r.StartedAt, r.Status), runReportsKey(r.ID)},
		runIndexKeys(r.ID, r.StartedAt, r.Resource.Type, r.Resource.Name, r.Pipeline.Name)...)
	if due := r.NextDue(); due != nil {
		keys = append(keys, runDeadlineKey(r.ID, *due))
	}
	return keys
}

// decodedRun is the run a looked-up value holds.
func (c *change) decodedRun(key string, v value) (record[domain.Run], error) {
	if v.run != nil {
		return *v.run, nil
	}
	return decodeWith[domain.Run](KV{Key: key, Value: v.data}, c.b.p.unmarshal)
}

// archivedRun is the run id as its events before the one at seq left it,
// read from the log: a run the read models let go of. Absent when the log
// has no start of it before seq either.
func (c *change) archivedRun(ctx context.Context, id string, seq uint64) (record[domain.Run], bool, error) {
	archive := c.b.p.retention.Archive
	if archive == nil {
		return record[domain.Run]{}, false, nil
	}
	events, err := archive(ctx, id)
	if err != nil {
		return record[domain.Run]{}, false, err
	}
	r, ok := foldRun(events, seq)
	return r, ok, nil
}

// foldRun is the run its events before the log position before leave
// (math.MaxUint64: all of them); false when they hold no start of it.
func foldRun(events []domain.Event, before uint64) (record[domain.Run], bool) {
	var agg domain.RunAggregate
	var last *domain.Meta
	for _, e := range events {
		if m := e.EventMeta(); m.Sequence < before {
			agg.Apply(e)
			last = m
		}
	}
	if !agg.Exists() {
		return record[domain.Run]{}, false
	}
	return record[domain.Run]{Value: agg.State(), AggregateVersion: last.Version, Sequence: last.Sequence}, true
}
