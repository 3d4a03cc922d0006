package projections

import (
	"context"
	"sort"
	"strconv"

	"github.com/conveyor/conveyor/domain"
)

// LayoutKey holds the version of the read models' layout: which keys the
// projector keeps besides the values themselves. A runner that finds an
// older layout brings the read models up to date before it projects.
const LayoutKey = checkpointsPrefix + "layout"

// layoutVersion is the layout this projector writes:
//
//	1: values and the run indexes by time, resource and pipeline
//	2: and the run indexes by status and by next due time
//	3: and the ended runs in the order they ended (see Retention)
const layoutVersion = 3

// statusIndexLayout is the first layout with the run indexes by status and
// due time.
const statusIndexLayout = 2

func layoutOp() Op { return Op{Key: LayoutKey, Value: []byte(strconv.Itoa(layoutVersion))} }

// upgradeLayout brings read models of an older layout to this one: it
// writes every run's status and deadline keys (from layout 1), and numbers
// the ended runs in the order they ended, letting go of those beyond the
// retention (from layouts 1 and 2). It reads every run twice, so it costs
// as much as the history, once, when a server of this version first leads;
// the marker it writes last (guarded by the checkpoint, so only while
// nothing else projected) makes it never run again. An upgrade cut short
// starts over.
func (r *Runner) upgradeLayout(ctx context.Context, cp checkpoint) error {
	kv, ok, err := r.cfg.Store.Get(ctx, LayoutKey)
	if err != nil {
		return err
	}
	from := 0
	if ok {
		from, _ = strconv.Atoi(string(kv.Value))
	}
	if from >= layoutVersion {
		return nil
	}
	if cp.seq > 0 {
		if err := r.upgradeRuns(ctx, from); err != nil {
			return err
		}
	}
	_, held, err := r.cfg.Store.Commit(ctx, []Guard{{Key: CheckpointKey, ModRevision: cp.rev}}, []Op{layoutOp()})
	if err != nil {
		return err
	}
	if !held {
		return errMoved
	}
	return nil
}

// upgradeRuns brings every run's keys from layout from to this one.
func (r *Runner) upgradeRuns(ctx context.Context, from int) error {
	ordinals, evicted, err := r.endedOrder(ctx)
	if err != nil {
		return err
	}
	w := opWriter{store: r.cfg.Store, max: r.cfg.MaxOps}
	// Numbers written by an upgrade cut short go first, in a transaction
	// of their own (etcd refuses a put under a range deleted in the same).
	if err := w.add(ctx, Op{Key: runsEndedPrefix, Delete: true, Prefix: true}); err != nil {
		return err
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	err = r.eachRun(ctx, func(view RunView) error {
		run := view.Run
		n, ended := ordinals[run.ID]
		var ops []Op
		if ended && n <= evicted {
			for _, k := range runKeys(run) {
				ops = append(ops, Op{Key: k, Delete: true})
			}
			return w.add(ctx, ops...)
		}
		if ended {
			numbered := record[domain.Run]{Value: run, AggregateVersion: view.AggregateVersion, Sequence: view.Sequence, Ended: n}
			ops = append(ops, Op{Key: runEndedKey(n), Value: endedValue(run)}, Op{Key: runKey(run.ID), Value: encodeRecord(numbered)})
		}
		if from < statusIndexLayout {
			ops = append(ops, runIndexMoves(nil, run)...)
		}
		return w.add(ctx, ops...)
	})
	if err != nil {
		return err
	}
	if err := w.add(ctx, Op{Key: runsEndedKey, Value: []byte(strconv.Itoa(len(ordinals)))}); err != nil {
		return err
	}
	r.cfg.Logger.Info("read models upgraded: ended runs numbered, runs beyond the retention let go of",
		"ended", len(ordinals), "let go of", evicted, "indexed by status", from < statusIndexLayout)
	return w.flush(ctx)
}

// endedOrder numbers the ended runs in the order they ended, as far as the
// read models tell: by the log position of each run's last event (a result
// recorded after a run's end moves it later). Those numbered up to evicted
// are beyond the retention.
func (r *Runner) endedOrder(ctx context.Context) (ordinals map[string]uint64, evicted uint64, err error) {
	type ended struct {
		seq uint64
		id  string
	}
	var order []ended
	err = r.eachRun(ctx, func(run RunView) error {
		if run.Ended() {
			order = append(order, ended{run.Sequence, run.ID})
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	sort.Slice(order, func(i, j int) bool { return order[i].seq < order[j].seq })
	ordinals = make(map[string]uint64, len(order))
	for i, e := range order {
		ordinals[e.id] = uint64(i + 1)
	}
	if keep := r.cfg.Retention.EndedRuns; keep > 0 && len(order) > keep {
		evicted = uint64(len(order) - keep)
	}
	return ordinals, evicted, nil
}

// eachRun calls fn with every run the read models hold, newest first.
func (r *Runner) eachRun(ctx context.Context, fn func(RunView) error) error {
	q := NewReadModel(r.cfg.Store)
	page := Page{Limit: MaxLimit}
	for {
		runs, next, err := q.Runs(ctx, RunFilter{}, page)
		if err != nil {
			return err
		}
		for _, run := range runs {
			if err := fn(run); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		page.Continue = next
	}
}

// opWriter commits writes in transactions of at most max operations, in
// the order they were added; the writes of one add stay in one
// transaction.
type opWriter struct {
	store Store
	max   int
	ops   []Op
}

func (w *opWriter) add(ctx context.Context, ops ...Op) error {
	if len(w.ops)+len(ops) > w.max {
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	w.ops = append(w.ops, ops...)
	return nil
}

func (w *opWriter) flush(ctx context.Context) error {
	if len(w.ops) == 0 {
		return nil
	}
	_, _, err := w.store.Commit(ctx, nil, w.ops)
	w.ops = w.ops[:0]
	return err
}
