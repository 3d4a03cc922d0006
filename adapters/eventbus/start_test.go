package eventbus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/eventbus"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/nats-io/nats.go"
)

// A subscription that starts at a log position hands its handler nothing
// before it; run again, with another start, its durable consumer resumes
// where it stood instead.
func TestASubscriptionStartsAtItsPositionOnce(t *testing.T) {
	ctx := context.Background()
	ns := embedtest.NATS(t, "")
	_, js := embedtest.JetStream(t, ns)
	store, err := eventstore.New(ctx, js, eventstore.Config{})
	must(t, err)
	appendDefinition := func(name string) {
		var def domain.Definition
		must(t, def.Create(domain.ResourceDefinition{Name: name, Schema: json.RawMessage(`{}`)}, "id-"+name,
			domain.Cause{EventID: "e-" + name, Time: time.Now(), CausationID: "test"}))
		_, err := store.Append(ctx, def.Changes(), 0)
		must(t, err)
	}
	for i := range 3 {
		appendDefinition(fmt.Sprintf("d%d", i+1))
	}
	var mu sync.Mutex
	var seen []uint64
	run := func(startAt, until uint64) {
		t.Helper()
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- eventbus.Run(runCtx, func() (*nats.Conn, error) { return ns.Connect() }, eventbus.Config{},
				eventbus.Subscription{Name: "late", StartAt: startAt, Handle: func(_ context.Context, events []domain.Event) error {
					mu.Lock()
					defer mu.Unlock()
					seen = append(seen, events[0].EventMeta().Sequence)
					return nil
				}})
		}()
		waitConsumed(t, ctx, js, "late", until)
		cancel()
		<-done
	}
	run(2, 3)
	appendDefinition("d4")
	run(1, 4)
	mu.Lock()
	defer mu.Unlock()
	if want := []uint64{2, 3, 4}; !slices.Equal(seen, want) {
		t.Errorf("handled positions %v, want %v", seen, want)
	}
}
