package projections

import (
	"context"
	"strconv"
)

// LayoutKey holds the version of the read models' layout: which keys the
// projector keeps besides the values themselves. A runner that finds an
// older layout brings the read models up to date before it projects.
const LayoutKey = checkpointsPrefix + "layout"

// layoutVersion is the layout this projector writes:
//
//	1: values and the run indexes by time, resource and pipeline
//	2: and the run indexes by status and by next due time
const layoutVersion = 2

func layoutOp() Op { return Op{Key: LayoutKey, Value: []byte(strconv.Itoa(layoutVersion))} }

// upgradeLayout brings read models of an older layout to this one: for
// layout 1, it writes every run's status and deadline keys. It reads every
// run once, so it costs as much as the history, once, when a server of this
// version first leads; the marker it writes last (guarded by the
// checkpoint, so only while nothing else projected) makes it never run
// again. Every write is idempotent: an upgrade cut short starts over.
func (r *Runner) upgradeLayout(ctx context.Context, cp checkpoint) error {
	kv, ok, err := r.cfg.Store.Get(ctx, LayoutKey)
	if err != nil {
		return err
	}
	if ok {
		if v, _ := strconv.Atoi(string(kv.Value)); v >= layoutVersion {
			return nil
		}
	}
	if cp.seq > 0 {
		if err := r.indexRunsByStatusAndDue(ctx); err != nil {
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

// indexRunsByStatusAndDue writes the status and deadline keys of every run.
func (r *Runner) indexRunsByStatusAndDue(ctx context.Context) error {
	q := NewReadModel(r.cfg.Store)
	page := Page{Limit: MaxLimit}
	indexed := 0
	var ops []Op
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		_, _, err := r.cfg.Store.Commit(ctx, nil, ops)
		ops = ops[:0]
		return err
	}
	for {
		runs, next, err := q.Runs(ctx, RunFilter{}, page)
		if err != nil {
			return err
		}
		for _, run := range runs {
			moves := runIndexMoves(nil, run.Run)
			if len(ops)+len(moves) > r.cfg.MaxOps {
				if err := flush(); err != nil {
					return err
				}
			}
			ops = append(ops, moves...)
		}
		indexed += len(runs)
		if next == "" {
			break
		}
		page.Continue = next
	}
	r.cfg.Logger.Info("read models upgraded: runs indexed by status and due time", "runs", indexed)
	return flush()
}
