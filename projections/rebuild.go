package projections

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/conveyor/conveyor/domain"
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

// Build projects the log from sequence from into store, in order, and
// returns the sequence of the last event applied; the store's checkpoint
// then names it. Built in a MemStore, every key is written once at the end
// instead of once per event. No one else may write store meanwhile. An event
// that cannot be applied is skipped (and reported as the phase "skipped"),
// as the projector parks it.
func Build(ctx context.Context, log Log, store Store, from uint64, progress Progress) (uint64, error) {
	total, err := log.LastSequence(ctx)
	if err != nil {
		return 0, err
	}
	p := NewProjector(store)
	var last uint64
	err = log.Replay(ctx, from, func(e domain.Event) error {
		if err := p.Project(ctx, e); err != nil {
			if transient(err) {
				return fmt.Errorf("event %d (%s): %w", e.EventMeta().Sequence, e.EventMeta().Type, err)
			}
			// The projector parked it when it met it; a rebuild skips it
			// the same way, so that one bad event never stops a rebuild.
			p.Forget()
			if progress != nil {
				progress("skipped", e.EventMeta().Sequence, total)
			}
		}
		last = e.EventMeta().Sequence
		if progress != nil && last%10000 == 0 {
			progress("replay", last, total)
		}
		return nil
	})
	if progress != nil {
		progress("replay", last, total)
	}
	if err == nil && last >= from {
		_, _, err = store.Commit(ctx, nil, []Op{{Key: CheckpointKey, Value: []byte(strconv.FormatUint(last, 10))}})
	}
	return last, err
}

// Difference is one key on which two read models disagree.
type Difference struct {
	Key      string `json:"key"`
	Expected string `json:"expected,omitempty"` // from the log; empty: the key should not exist
	Actual   string `json:"actual,omitempty"`   // in the store; empty: the key is missing
}

// Diff compares the read model the log gives (want, sorted by key) with the
// keys of store, and returns every difference. The checkpoint, which says how
// far each of them got, and keys an older version of Conveyor kept
// (aggregates/) are not compared.
func Diff(ctx context.Context, want []KV, store Store) ([]Difference, error) {
	want = compared(want)
	got, err := listAll(ctx, store)
	if err != nil {
		return nil, err
	}
	got = compared(got)
	var out []Difference
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || (i < len(want) && want[i].Key < got[j].Key):
			out = append(out, Difference{Key: want[i].Key, Expected: string(want[i].Value)})
			i++
		case i == len(want) || got[j].Key < want[i].Key:
			out = append(out, Difference{Key: got[j].Key, Actual: string(got[j].Value)})
			j++
		default:
			if !bytes.Equal(want[i].Value, got[j].Value) {
				out = append(out, Difference{Key: want[i].Key, Expected: string(want[i].Value), Actual: string(got[j].Value)})
			}
			i, j = i+1, j+1
		}
	}
	return out, nil
}

// Generations are the read models' generations in the store.
type Generations interface {
	// Generation is the one in use.
	Generation() int
	// At is a store on generation gen.
	At(gen int) Store
	// WriteAll writes keys into generation gen in bulk.
	WriteAll(ctx context.Context, gen int, kvs []KV) error
	// Switch makes every server use generation to, if from still is current.
	Switch(ctx context.Context, from, to int) error
	// Drop deletes generation gen.
	Drop(ctx context.Context, gen int) error
}

// Maintenance rebuilds and verifies the read models from the log.
type Maintenance struct {
	Log         Log
	Generations Generations
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
func (m Maintenance) Rebuild(ctx context.Context, progress Progress) (RebuildReport, error) {
	from := m.Generations.Generation()
	to := from + 1
	r := RebuildReport{From: from, Generation: to}
	if err := m.Generations.Drop(ctx, to); err != nil { // leftovers of a rebuild that died
		return r, err
	}
	mem := NewMemStore()
	last, err := Build(ctx, m.Log, mem, 1, progress)
	if err != nil {
		return r, err
	}
	all := mem.All()
	r.Keys = len(all)
	if progress != nil {
		progress("write", 0, uint64(len(all)))
	}
	if err := m.Generations.WriteAll(ctx, to, all); err != nil {
		return r, err
	}
	if progress != nil {
		progress("write", uint64(len(all)), uint64(len(all)))
	}
	target := m.Generations.At(to)
	if last, err = catchUp(ctx, m.Log, target, last); err != nil {
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

// catchUp projects the events after sequence last into store.
func catchUp(ctx context.Context, log Log, store Store, last uint64) (uint64, error) {
	n, err := Build(ctx, log, store, last+1, nil)
	return max(n, last), err
}

// VerifyReport says what a verify found.
type VerifyReport struct {
	Events      uint64       `json:"events"`
	Keys        int          `json:"keys"`
	Differences []Difference `json:"differences"`
}

// Verify replays the log into memory and reports every difference from the
// read models in use. Events appended while it runs can show up as
// differences; verify a quiet system, or run it twice.
func (m Maintenance) Verify(ctx context.Context, progress Progress) (VerifyReport, error) {
	mem := NewMemStore()
	last, err := Build(ctx, m.Log, mem, 1, progress)
	if err != nil {
		return VerifyReport{}, err
	}
	want := mem.All()
	diffs, err := Diff(ctx, want, m.Generations.At(m.Generations.Generation()))
	return VerifyReport{Events: last, Keys: len(want), Differences: diffs}, err
}

// listAll is every key of store, in key order.
func listAll(ctx context.Context, store Store) ([]KV, error) {
	var got []KV
	after := ""
	for {
		page, more, err := store.List(ctx, "", after, 1000)
		if err != nil {
			return nil, err
		}
		got = append(got, page...)
		if !more || len(page) == 0 {
			break
		}
		after = page[len(page)-1].Key
	}
	return got, nil
}

// compared leaves out the keys Diff does not compare.
func compared(kvs []KV) []KV {
	out := make([]KV, 0, len(kvs))
	for _, kv := range kvs {
		if !strings.HasPrefix(kv.Key, checkpointsPrefix) && !strings.HasPrefix(kv.Key, aggregatesPrefix) {
			out = append(out, kv)
		}
	}
	return out
}
