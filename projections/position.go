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
	gen     int           // the read-model generation cur is in
	changed chan struct{} // closed and replaced on every advance
	// Refresh reads the position the store holds now, with its generation
	// (nil: never refreshed).
	Refresh func(ctx context.Context) (gen int, seq uint64, err error)
	// Generation is the generation reads are served from (nil: the store
	// has one generation). A position in another one is not trusted: a
	// rebuild's new generation may not yet hold what the old one did.
	Generation func() int
}

// NewPosition returns a position at 0.
func NewPosition() *Position { return &Position{changed: make(chan struct{})} }

// Current is the last position known to be projected.
func (p *Position) Current() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// SetIn moves the position to seq in generation gen: forward within one
// generation, to whatever seq is when the generation changes.
func (p *Position) SetIn(gen int, seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen == p.gen && seq <= p.cur {
		return
	}
	p.gen, p.cur = gen, seq
	close(p.changed)
	p.changed = make(chan struct{})
}

// wait returns the position if it is in the generation reads are served
// from (else 0) and a channel closed when it changes.
func (p *Position) wait() (uint64, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Generation != nil && p.Generation() != p.gen {
		return 0, p.changed
	}
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
		if err := p.sleep(ctx, changed); err != nil {
			return err
		}
	}
}

// sleep waits for a change, or refreshes the position from the store.
func (p *Position) sleep(ctx context.Context, changed <-chan struct{}) error {
	var tick <-chan time.Time
	if p.Refresh != nil {
		t := time.NewTimer(refreshEvery)
		defer t.Stop()
		tick = t.C
	}
	select {
	case <-changed:
	case <-tick:
		if gen, stored, err := p.Refresh(ctx); err == nil {
			p.SetIn(gen, stored)
		}
	case <-ctx.Done():
		return ErrBehind
	}
	return nil
}
