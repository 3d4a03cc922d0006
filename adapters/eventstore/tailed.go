package eventstore

import (
	"context"
	"encoding/json"

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

// FollowJSON is Follow with each event as its stored JSON with its log
// sequence added, as GET /events shows it: an event is never decoded, so a
// thousand streams replaying the log cost little more than the bytes they
// send.
func (t *Tailed) FollowJSON(ctx context.Context, q projections.EventQuery, fn func(json.RawMessage) error) error {
	return t.tail.Follow(ctx, follow.Config{Filter: t.filter(q), After: q.After}, func(m follow.Msg) error {
		stored := storedMsg{Sequence: m.Sequence, Header: m.Header, Data: m.Data}
		if ok, err := matchesStored(q, stored); err != nil || !ok {
			return err
		}
		raws, err := withSequence(stored)
		if err != nil {
			return err
		}
		for _, raw := range raws {
			if ok, err := typeMatches(q, raw, len(raws)); err != nil {
				return err
			} else if ok {
				if err := fn(raw); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// typeMatches tells whether one of the n events of a message is of q's
// type: the message's header lists the types of them all.
func typeMatches(q projections.EventQuery, raw json.RawMessage, n int) (bool, error) {
	if q.Type == "" || n == 1 {
		return true, nil
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return false, err
	}
	return head.Type == q.Type, nil
}
