package projections

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/conveyor/conveyor/domain"
	"golang.org/x/sync/errgroup"
)

// Log is the event log as a rebuild reads it.
type Log interface {
	// Replay calls fn for every event from sequence from up to the last one
	// at the time of the call, in order.
	Replay(ctx context.Context, from uint64, fn func(domain.Event) error) error
	LastSequence(ctx context.Context) (uint64, error)
}

// Progress reports how far a rebuild or verify got.
type Progress func(phase string, done, total uint64)

// Build projects the log from sequence from into p's store, in order, and
// returns the sequence of the last event applied; the store's checkpoint
// then names it. Into a MemStore it commits many events at once, each key
// once per commit; into any other store one event per transaction, so that
// no transaction outgrows what the store takes. No one else may write the
// store meanwhile. An event that cannot be applied is skipped (and reported
// as the phase "skipped"), as the projector parks it.
func Build(ctx context.Context, log Log, p *Projector, from uint64, progress Progress) (uint64, error) {
	total, err := log.LastSequence(ctx)
	if err != nil {
		return 0, err
	}
	store := p.store
	perCommit, newBatch := 1, p.NewBatch
	if _, ok := store.(*MemStore); ok {
		perCommit, newBatch = memBatchEvents, p.NewUnsizedBatch
	}
	b, events := newBatch(), 0
	commit := func() error {
		_, _, err := store.Commit(ctx, nil, b.Ops())
		if err == nil {
			p.Committed(b)
		}
		b, events = newBatch(), 0
		return err
	}
	var last uint64
	err = log.Replay(ctx, from, func(e domain.Event) error {
		seq := e.EventMeta().Sequence
		err := b.Add(ctx, seq, []domain.Event{e})
		if errors.Is(err, ErrFlush) {
			if err = commit(); err == nil {
				err = b.Add(ctx, seq, []domain.Event{e})
			}
		}
		if err == nil {
			if events++; events >= perCommit {
				err = commit()
			}
		}
		if err != nil {
			if transient(err) {
				return fmt.Errorf("event %d (%s): %w", seq, e.EventMeta().Type, err)
			}
			// The projector parked it when it met it; a rebuild skips it
			// the same way, so that one bad event never stops a rebuild.
			p.Forget()
			if progress != nil {
				progress("skipped", seq, total)
			}
		}
		last = seq
		if progress != nil && last%10000 == 0 {
			progress("replay", last, total)
		}
		return nil
	})
	if err == nil && events > 0 {
		err = commit()
	}
	if progress != nil {
		progress("replay", last, total)
	}
	if err == nil && last >= from {
		_, _, err = store.Commit(ctx, nil, []Op{{Key: CheckpointKey, Value: []byte(strconv.FormatUint(last, 10))}, layoutOp()})
	}
	return last, err
}

// memBatchEvents is how many events Build commits at once into a MemStore.
const memBatchEvents = 1000

// Generations are the read models' generations in the store.
type Generations interface {
	// Generation is the one in use.
	Generation() int
	// At is a store on generation gen.
	At(gen int) Store
	// WriteAll applies ops, each to another key, to generation gen in bulk.
	WriteAll(ctx context.Context, gen int, ops []Op) error
	// Switch makes every server use generation to, if from still is current.
	Switch(ctx context.Context, from, to int) error
	// Drop deletes generation gen.
	Drop(ctx context.Context, gen int) error
}

// Maintenance rebuilds and verifies the read models from the log.
type Maintenance struct {
	Log         Log
	Generations Generations
	// Unmarshal, when set, decodes the values the projection reads back
	// (see NewProjectorWith).
	Unmarshal domain.Unmarshal
	// Retention is what the read models keep of ended runs, as the
	// projector keeps it (default: all).
	Retention Retention
}

// RebuildReport says what a rebuild did.
type RebuildReport struct {
	Events     uint64 `json:"events"`
	Keys       int    `json:"keys"`
	From       int    `json:"fromGeneration"`
	Generation int    `json:"generation"`
}

// Rebuild builds the read models from sequence 1 into a fresh generation
// while the current one keeps serving, catches up with what was appended
// meanwhile, switches every server to it in one step, and drops the old
// generation. The projector follows the switch: it finds the new
// generation's checkpoint and goes on from there.
//
// The log is projected into memory, and what changed there is written to
// the new generation meanwhile, as fast as the store takes it: each write
// takes every key changed since the one before, so that a key the log
// changes often is written far less often than it changes. Progress may be
// called from two goroutines at once.
func (m Maintenance) Rebuild(ctx context.Context, progress Progress) (RebuildReport, error) {
	from := m.Generations.Generation()
	to := from + 1
	r := RebuildReport{From: from, Generation: to}
	if err := m.Generations.Drop(ctx, to); err != nil { // leftovers of a rebuild that died
		return r, err
	}
	mem := NewMemStore()
	mem.TrackChanges()
	g, gctx := errgroup.WithContext(ctx)
	built := make(chan struct{})
	var last uint64
	g.Go(func() error {
		defer close(built)
		var err error
		last, err = Build(gctx, m.Log, NewProjectorWith(mem, m.Unmarshal).Keep(m.Retention), 1, progress)
		return err
	})
	g.Go(func() error { return m.writeChanges(gctx, to, mem, built, progress) })
	if err := g.Wait(); err != nil {
		return r, err
	}
	r.Keys = mem.Len()
	target := m.Generations.At(to)
	last, err := catchUp(ctx, m.Log, NewProjectorWith(target, m.Unmarshal).Keep(m.Retention), last)
	if err != nil {
		return r, err
	}
	if err := m.Generations.Switch(ctx, from, to); err != nil {
		return r, err
	}
	r.Events = last
	if progress != nil {
		progress("switched", last, last)
	}
	return r, m.Generations.Drop(ctx, from)
}

// writeChanges writes what changed in mem into generation gen, again and
// again, until built is closed and everything is written.
func (m Maintenance) writeChanges(ctx context.Context, gen int, mem *MemStore, built <-chan struct{}, progress Progress) error {
	var written uint64
	for {
		done := false
		select {
		case <-built:
			done = true
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(writePause):
		}
		ops := mem.TakeChanges()
		if len(ops) > 0 {
			if err := m.Generations.WriteAll(ctx, gen, ops); err != nil {
				return err
			}
			written += uint64(len(ops))
			if progress != nil {
				progress("write", written, written)
			}
		}
		if done {
			return nil
		}
	}
}

// writePause is how long writeChanges waits for changes to gather when the
// last write took less.
const writePause = 100 * time.Millisecond

// catchUp projects the events after sequence last into p's store.
func catchUp(ctx context.Context, log Log, p *Projector, last uint64) (uint64, error) {
	n, err := Build(ctx, log, p, last+1, nil)
	return max(n, last), err
}
