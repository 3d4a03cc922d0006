package eventstore

import (
	"context"

	"github.com/conveyor/conveyor/adapters/eventjson"
	"github.com/conveyor/conveyor/adapters/follow"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
)

// Tailed is the store whose Follow goes through a tail of the log shared
// by every follower: the API's event streams, however many, then hold no
// consumer of their own (see follow.Tail). Its other methods are the
// store's.
type Tailed struct {
	*Store
	tail *follow.Tail
}

// Tailed returns the store following through tail, a tail of this store's
// stream.
func (s *Store) Tailed(tail *follow.Tail) *Tailed { return &Tailed{Store: s, tail: tail} }

// Follow is Store.Follow through the shared tail: the same events, in the
// same order, each once.
func (t *Tailed) Follow(ctx context.Context, q projections.EventQuery, fn func(domain.Event) error) error {
	return t.tail.Follow(ctx, follow.Config{Filter: t.filter(q), After: q.After}, func(m follow.Msg) error {
		events, err := eventjson.DecodeAt(m.Data, m.Sequence)
		if err != nil {
			return err
		}
		return deliver(q, events, fn)
	})
}
