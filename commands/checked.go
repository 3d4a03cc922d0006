package commands

import (
	"context"
	"sync"
)

// HeadReader is what an EventStore may also offer: the log position of an
// aggregate's last event (0 when it has none), known without reading its
// events. With it, the definitions and pipelines a create checks against
// are decoded once per change instead of once per create.
type HeadReader interface {
	Head(ctx context.Context, aggregate, id string) (uint64, error)
}

// checkedLimit bounds the states remembered; when full it starts over.
const checkedLimit = 4096

// checked remembers the state of aggregates a command only reads (the
// definition and pipeline a resource names), each as of the log position
// of its last event. Safe for concurrent use.
type checked[S any] struct {
	mu     sync.Mutex
	states map[string]checkedState[S]
}

type checkedState[S any] struct {
	head  uint64
	state S
}

// get returns the state of aggregate id: remembered when its last event is
// still the one at head, else loaded by load and remembered.
func (c *checked[S]) get(ctx context.Context, heads HeadReader, aggregate, id string,
	load func() (S, uint64, error)) (S, error) {
	if heads == nil {
		s, _, err := load()
		return s, err
	}
	head, err := heads.Head(ctx, aggregate, id)
	if err != nil {
		var zero S
		return zero, err
	}
	c.mu.Lock()
	known, ok := c.states[id]
	c.mu.Unlock()
	if ok && known.head == head {
		return known.state, nil
	}
	s, at, err := load()
	if err != nil {
		return s, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.states == nil || len(c.states) >= checkedLimit {
		c.states = map[string]checkedState[S]{}
	}
	c.states[id] = checkedState[S]{head: at, state: s}
	return s, nil
}
