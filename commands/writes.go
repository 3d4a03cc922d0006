package commands

import (
	"context"
	"sync/atomic"
)

// Writes collects the log positions of the appends made under one context:
// a request's writes, so that its answer can name the position a reader
// must wait for. Safe for concurrent use.
type Writes struct {
	last atomic.Uint64
}

type writesKey struct{}

// RecordWrites returns a context under which the handler notes the log
// position of every append, and the Writes that collects them.
func RecordWrites(ctx context.Context) (context.Context, *Writes) {
	w := &Writes{}
	return context.WithValue(ctx, writesKey{}, w), w
}

// Last is the highest log position written (0: nothing was written).
func (w *Writes) Last() uint64 { return w.last.Load() }

// Note records a write at log position seq (the highest one is kept).
func (w *Writes) Note(seq uint64) {
	for {
		cur := w.last.Load()
		if seq <= cur || w.last.CompareAndSwap(cur, seq) {
			return
		}
	}
}
