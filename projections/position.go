package projections

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrBehind is returned by Position.WaitFor when the read models did not
// reach the position asked for in time; the caller may try again shortly.
var ErrBehind = errors.New("the read models have not reached that log position yet")

// Position is how far the read models have applied the log: the sequence of
// the last message projected. A reader that must see a write waits for its
// position. The projector of this process moves it at once; Refresh, when
// set, reads it from the store, for the servers whose projector is not the
// one writing. Safe for concurrent use.
type Position struct {
	mu      sync.Mutex
	cur     uint64
	changed chan struct{} // closed and replaced on every advance
	// Refresh reads the position the store holds (nil: never refreshed).
	Refresh func(ctx context.Context) (uint64, error)
}

// NewPosition returns a position at 0.
func NewPosition() *Position { return &Position{changed: make(chan struct{})} }

// Current is the last position known to be projected.
func (p *Position) Current() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// Set moves the position forward to seq (never back).
func (p *Position) Set(seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if seq <= p.cur {
		return
	}
	p.cur = seq
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *Position) wait() (uint64, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur, p.changed
}

// refreshEvery is how often a waiting reader reads the stored position.
const refreshEvery = 5 * time.Millisecond

// WaitFor returns once the read models reached seq, or ErrBehind when ctx
// ends first.
func (p *Position) WaitFor(ctx context.Context, seq uint64) error {
	for {
		cur, changed := p.wait()
		if cur >= seq {
			return nil
		}
		var tick <-chan time.Time
		if p.Refresh != nil {
			t := time.NewTimer(refreshEvery)
			defer t.Stop()
			tick = t.C
		}
		select {
		case <-changed:
		case <-tick:
			if stored, err := p.Refresh(ctx); err == nil {
				p.Set(stored)
			}
		case <-ctx.Done():
			return ErrBehind
		}
	}
}
