package commands

import (
	"context"

	"github.com/conveyor/conveyor/domain"
)

type actorKey struct{}

// WithActor returns ctx carrying who acts: every event a command appends
// under it records the actor.
func WithActor(ctx context.Context, a domain.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, &a)
}

// ActorOf is the actor ctx carries, or nil.
func ActorOf(ctx context.Context) *domain.Actor {
	a, _ := ctx.Value(actorKey{}).(*domain.Actor)
	return a
}

// stampActor sets the actor of ctx on each event that has none.
func stampActor(ctx context.Context, events []domain.Event) {
	a := ActorOf(ctx)
	if a == nil {
		return
	}
	for _, e := range events {
		if m := e.EventMeta(); m.Actor == nil {
			m.Actor = a
		}
	}
}
