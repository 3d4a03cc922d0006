package projections

import (
	"context"
	"fmt"
	"strconv"

	"github.com/conveyor/conveyor/domain"
)

// runChanged folds a run event into runs/{id}. RunStarted also writes the
// run's index entries; a recorded (not ignored) driver result also lands in
// the resource's metadata under driverresults.{driver}, in the current
// resource and in the version the run started from.
func (p *Projector) runChanged(ctx context.Context, e domain.Event) ([]Guard, []Op, func(int, int64), error) {
	m := e.EventMeta()
	key := runKey(m.AggregateID)
	remember := func(state domain.Run) func(int, int64) {
		return func(gen int, rev int64) {
			p.cache.putRun(m.AggregateID, runEntry{gen: gen, run: state, version: m.Version, rev: rev})
		}
	}
	if started, ok := e.(*domain.RunStarted); ok {
		run := domain.RunAggregate{}
		run.Apply(started)
		state := run.State()
		ops := []Op{{Key: key, Value: encode(state, m)}}
		for _, k := range runIndexKeys(state.ID, state.StartedAt, state.Resource.Type, state.Resource.Name, state.Pipeline.Name) {
			ops = append(ops, Op{Key: k, Value: []byte(state.ID)})
		}
		return []Guard{{Key: key, ModRevision: 0}}, ops, remember(state), nil
	}
	stored, rev, err := p.storedRun(ctx, m.AggregateID)
	if err != nil {
		return nil, nil, nil, err
	}
	run := domain.RestoreRun(stored.Value, stored.AggregateVersion)
	run.Apply(e)
	guards := []Guard{{Key: key, ModRevision: rev}}
	ops := []Op{{Key: key, Value: encode(run.State(), m)}}
	if r, ok := e.(*domain.DriverResultRecorded); ok && r.Ignored == "" {
		g, o, err := p.resultIntoResource(ctx, run.State(), r)
		if err != nil {
			return nil, nil, nil, err
		}
		guards, ops = append(guards, g...), append(ops, o...)
	}
	return guards, ops, remember(run.State()), nil
}

// storedRun is the run as projected so far and the mod revision of its key,
// from the cache when this projector wrote it last.
func (p *Projector) storedRun(ctx context.Context, id string) (record[domain.Run], int64, error) {
	if c, ok := p.cache.run(p.generation(), id); ok {
		return record[domain.Run]{Value: c.run, AggregateVersion: c.version}, c.rev, nil
	}
	kv, ok, err := p.store.Get(ctx, runKey(id))
	if err != nil {
		return record[domain.Run]{}, 0, err
	}
	if !ok {
		return record[domain.Run]{}, 0, fmt.Errorf("%w: run %s has no RunStarted yet", ErrGap, id)
	}
	stored, err := decode[domain.Run](kv)
	return stored, kv.ModRevision, err
}

func (p *Projector) resultIntoResource(ctx context.Context, run domain.Run, r *domain.DriverResultRecorded) ([]Guard, []Op, error) {
	res := run.Resource
	// The resource event that started the run must be applied first, or the
	// result would miss the resource (or land in it only by chance).
	guardKey := aggregateKey(domain.AggregateResource, res.Key())
	guard, _, err := p.store.Get(ctx, guardKey)
	if err != nil {
		return nil, nil, err
	}
	if applied, _ := strconv.ParseUint(string(guard.Value), 10, 64); applied < run.ResourceEventVersion {
		return nil, nil, fmt.Errorf("%w: resource %s is at version %d, run %s started at %d",
			ErrGap, res.Key(), applied, run.ID, run.ResourceEventVersion)
	}
	guards := []Guard{{Key: guardKey, ModRevision: guard.ModRevision}}
	var ops []Op
	for _, key := range []string{resourceKey(res.Type, res.Name), resourceVersionKey(res.Type, res.Name, res.Version())} {
		kv, ok, err := p.store.Get(ctx, key)
		if err != nil {
			return nil, nil, err
		}
		guards = append(guards, Guard{Key: key, ModRevision: kv.ModRevision})
		if !ok {
			continue
		}
		stored, err := decode[domain.Resource](kv)
		if err != nil {
			return nil, nil, err
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
		value := encodeRecord(stored)
		ops = append(ops, Op{Key: key, Value: value})
	}
	return guards, ops, nil
}
