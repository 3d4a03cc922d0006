package api

import (
	"context"
	"errors"
	"testing"

	"github.com/conveyor/conveyor/domain"
)

// TestStreamRegistryLimitsAndSweep: a token beyond its own limit is told
// so (429) even when the server is full too; the total refuses anyone
// (503); a released stream makes room. A sweep ends, with the reason, the
// streams of a token revoked or re-issued with a role that no longer
// allows them, and no other.
func TestStreamRegistryLimitsAndSweep(t *testing.T) {
	g := newStreamRegistry(StreamLimits{Max: 3, PerToken: 2})
	viewer := domain.Token{ID: "v1", Name: "watcher", Hash: "hv", Role: domain.RoleViewer}
	operator := domain.Token{ID: "o1", Name: "ops", Hash: "ho", Role: domain.RoleOperator}
	stream := func(tok domain.Token, need domain.Role) (*openStream, context.Context) {
		ctx, cancel := context.WithCancelCause(context.Background())
		return &openStream{token: tok, need: need, cancel: cancel}, ctx
	}
	v1, v1ctx := stream(viewer, domain.RoleViewer)
	v2, _ := stream(viewer, domain.RoleViewer)
	o1, o1ctx := stream(operator, domain.RoleOperator)
	for i, o := range []*openStream{v1, v2, o1} {
		if err := g.admit(o); err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
	}
	if v3, _ := stream(viewer, domain.RoleViewer); !errors.Is(g.admit(v3), errStreamsOfToken) {
		t.Error("a third stream of one token was not refused as the token's")
	}
	if o2, _ := stream(operator, domain.RoleOperator); !errors.Is(g.admit(o2), errStreamsFull) {
		t.Error("a fourth stream was not refused as one too many for the server")
	}
	g.release(v2)
	g.release(v2) // twice is once
	if v3, _ := stream(viewer, domain.RoleViewer); g.admit(v3) != nil {
		t.Error("a released stream made no room")
	} else {
		g.release(v3)
	}

	tokens := map[string]domain.Token{"hv": viewer, "ho": operator}
	g.sweep(func(hash string) (domain.Token, bool) { tok, ok := tokens[hash]; return tok, ok })
	if v1ctx.Err() != nil || o1ctx.Err() != nil {
		t.Fatal("a sweep ended the streams of valid tokens")
	}
	delete(tokens, "hv")                                           // revoked
	tokens["ho"] = domain.Token{ID: "o1", Role: domain.RoleViewer} // lost the operator's right
	g.sweep(func(hash string) (domain.Token, bool) { tok, ok := tokens[hash]; return tok, ok })
	for name, ctx := range map[string]context.Context{"revoked": v1ctx, "demoted": o1ctx} {
		if !errors.Is(context.Cause(ctx), errTokenWithdrawn) {
			t.Errorf("the %s token's stream: cause %v, want %v", name, context.Cause(ctx), errTokenWithdrawn)
		}
	}
}
