package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/conveyor/conveyor/domain"
)

// record is how every read model value is stored: the value with the
// aggregate version and the log sequence of the last event applied to it.
type record[T any] struct {
	Value            T      `json:"value"`
	AggregateVersion uint64 `json:"aggregateVersion"`
	Sequence         uint64 `json:"sequence"`
}

func encode[T any](v T, m *domain.Meta) []byte {
	data, err := json.Marshal(record[T]{Value: v, AggregateVersion: m.Version, Sequence: m.Sequence})
	if err != nil {
		panic(fmt.Sprintf("projections: encode %T: %v", v, err)) // only plain data is stored
	}
	return data
}

func decode[T any](kv KV) (record[T], error) {
	var r record[T]
	if err := json.Unmarshal(kv.Value, &r); err != nil {
		return r, fmt.Errorf("read model %s is corrupt: %w", kv.Key, err)
	}
	return r, nil
}

// Projector applies events to the read models. Project is idempotent and
// ordered per aggregate, and safe to call from several goroutines and
// processes at once: each event is committed in one transaction guarded by
// its aggregate's applied version, so a race applies it once.
type Projector struct {
	store Store
	cache *cache
}

// NewProjector returns a projector writing to store.
func NewProjector(store Store) *Projector { return &Projector{store: store, cache: newCache()} }

// generation is the read-model generation the store is on (0 for stores
// without generations).
func (p *Projector) generation() int {
	if g, ok := p.store.(generationer); ok {
		return g.Generation()
	}
	return 0
}

// Project applies events in order. An event already applied is skipped; an
// event whose predecessors are missing returns an error wrapping ErrGap.
// Events of one aggregate in a row cost one read of its guard.
func (p *Projector) Project(ctx context.Context, events ...domain.Event) error {
	var known guardState
	for _, e := range events {
		if err := p.apply(ctx, e, &known); err != nil {
			return err
		}
	}
	return nil
}

// guardState remembers the last guard read, for the next event of the same
// aggregate.
type guardState struct {
	key     string
	applied uint64
	kv      KV
	valid   bool
}

// maxAttempts bounds the retries of a commit that lost a race.
const maxAttempts = 50

func (p *Projector) apply(ctx context.Context, e domain.Event, known *guardState) error {
	m := e.EventMeta()
	switch m.Aggregate {
	case domain.AggregateDefinition, domain.AggregateResource, domain.AggregatePipeline, domain.AggregateRun:
	default:
		return nil
	}
	guardKey := aggregateKey(m.Aggregate, m.AggregateID)
	runID := ""
	if m.Aggregate == domain.AggregateRun {
		runID = m.AggregateID
	}
	// A first event most likely finds no guard: the first attempt assumes it
	// absent and lets the commit check, which saves a read; if the guard
	// exists, the commit fails and the next attempt reads it.
	assumeAbsent := m.Version == 1
	for range maxAttempts {
		gen := p.generation()
		if !known.valid || known.key != guardKey {
			if c, ok := p.cache.guard(gen, guardKey); ok {
				*known = guardState{key: guardKey, applied: c.applied, kv: KV{Key: guardKey, ModRevision: c.rev}, valid: true}
			} else if assumeAbsent {
				*known = guardState{key: guardKey, kv: KV{Key: guardKey}, valid: true}
			} else {
				guard, _, err := p.store.Get(ctx, guardKey)
				if err != nil {
					return err
				}
				applied, _ := strconv.ParseUint(string(guard.Value), 10, 64)
				*known = guardState{key: guardKey, applied: applied, kv: guard, valid: true}
				p.cache.putGuard(guardKey, guardEntry{gen: gen, applied: applied, rev: guard.ModRevision})
			}
		}
		if m.Version <= known.applied {
			return nil
		}
		if m.Version > known.applied+1 {
			known.valid = false
			p.cache.forget(guardKey, runID)
			return fmt.Errorf("%w: %s %s is at version %d, event %s has %d",
				ErrGap, m.Aggregate, m.AggregateID, known.applied, m.Type, m.Version)
		}
		assumeAbsent = false
		guards, ops, after, err := p.changes(ctx, e)
		if err != nil {
			known.valid = false
			p.cache.forget(guardKey, runID)
			return err
		}
		guards = append(guards, Guard{Key: guardKey, ModRevision: known.kv.ModRevision})
		ops = append(ops, Op{Key: guardKey, Value: []byte(strconv.FormatUint(m.Version, 10))})
		rev, ok, err := p.store.Commit(ctx, guards, ops)
		if err != nil {
			known.valid = false
			p.cache.forget(guardKey, runID)
			return err
		}
		if ok {
			known.applied, known.kv.ModRevision = m.Version, rev
			p.cache.putGuard(guardKey, guardEntry{gen: gen, applied: m.Version, rev: rev})
			if after != nil {
				after(gen, rev)
			}
			return nil
		}
		known.valid = false // lost a race: read again
		p.cache.forget(guardKey, runID)
	}
	return fmt.Errorf("projections: %s %s: too many concurrent writers", m.Aggregate, m.AggregateID)
}

// changes are the writes one event makes, with guards on what they read,
// and what to remember once they are committed (nil: nothing).
func (p *Projector) changes(ctx context.Context, e domain.Event) ([]Guard, []Op, func(gen int, rev int64), error) {
	if e.EventMeta().Aggregate == domain.AggregateRun {
		return p.runChanged(ctx, e)
	}
	guards, ops, err := p.resourceChanges(ctx, e)
	return guards, ops, nil, err
}

func (p *Projector) resourceChanges(ctx context.Context, e domain.Event) ([]Guard, []Op, error) {
	m := e.EventMeta()
	switch e := e.(type) {
	case *domain.ResourceDefinitionCreated:
		return nil, []Op{{Key: definitionKey(e.Definition.Name), Value: encode(e.Definition, m)}}, nil
	case *domain.ResourceDefinitionUpdated:
		return nil, []Op{{Key: definitionKey(e.Definition.Name), Value: encode(e.Definition, m)}}, nil
	case *domain.ResourceDefinitionDeleted:
		return nil, []Op{{Key: definitionKey(e.Name), Delete: true}}, nil
	case *domain.PipelineCreated:
		return nil, []Op{{Key: pipelineKey(e.Pipeline.Name), Value: encode(e.Pipeline, m)}}, nil
	case *domain.PipelineUpdated:
		return nil, []Op{{Key: pipelineKey(e.Pipeline.Name), Value: encode(e.Pipeline, m)}}, nil
	case *domain.PipelineDeleted:
		return nil, []Op{{Key: pipelineKey(e.Name), Delete: true}}, nil
	case *domain.ResourceCreated:
		return nil, putResource(e.Resource, m), nil
	case *domain.ResourceUpdated:
		return p.resourceUpdated(ctx, e)
	case *domain.ResourceDeleted:
		return nil, []Op{{Key: resourceKey(e.Type, e.Name), Delete: true},
			{Key: resourceVersionsOf(e.Type, e.Name), Delete: true, Prefix: true}}, nil
	}
	return nil, nil, nil
}

func putResource(r domain.Resource, m *domain.Meta) []Op {
	value := encode(r, m)
	return []Op{{Key: resourceKey(r.Type, r.Name), Value: value},
		{Key: resourceVersionKey(r.Type, r.Name, r.Version()), Value: value}}
}

// resourceUpdated keeps the driver results the stored resource has.
func (p *Projector) resourceUpdated(ctx context.Context, e *domain.ResourceUpdated) ([]Guard, []Op, error) {
	r := e.Resource
	key := resourceKey(r.Type, r.Name)
	kv, ok, err := p.store.Get(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	if ok {
		old, err := decode[domain.Resource](kv)
		if err != nil {
			return nil, nil, err
		}
		r.Metadata = keepResults(r.Metadata, old.Value.Metadata)
	}
	return []Guard{{Key: key, ModRevision: kv.ModRevision}}, putResource(r, e.EventMeta()), nil
}

func keepResults(into, from map[string]string) map[string]string {
	out := make(map[string]string, len(into)+len(from))
	for k, v := range into {
		out[k] = v
	}
	for k, v := range from {
		if len(k) > len(domain.MetaResultPrefix) && k[:len(domain.MetaResultPrefix)] == domain.MetaResultPrefix {
			out[k] = v
		}
	}
	return out
}

func encodeRecord[T any](r record[T]) []byte {
	data, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("projections: encode %T: %v", r.Value, err))
	}
	return data
}
