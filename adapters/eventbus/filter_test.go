package eventbus_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/eventbus"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A subscription to two aggregates (as the engine's: resources and runs)
// makes a durable consumer with one filter subject, the whole log, since
// several filters make nats-server intersect them with every subject of the
// stream; the events of the other aggregates never reach its handler, and
// the events of both of its own do, in log order.
func TestASubscriptionToTwoAggregatesHasOneFilterSubject(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := embedtest.NATS(t, "")
	_, js := embedtest.JetStream(t, ns)
	store, err := eventstore.New(ctx, js, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cause := domain.Cause{EventID: "e1", Time: time.Now(), CausationID: "test"}
	var def domain.Definition
	must(t, def.Create(domain.ResourceDefinition{Name: "build", Schema: json.RawMessage(`{}`)}, "d1", cause))
	var pipe domain.PipelineAggregate
	cause.EventID = "e2"
	must(t, pipe.Create(domain.Pipeline{Name: "ci", Resource: "build", Steps: []domain.Step{{ID: "a", Driver: "d"}}}, cause))
	var res domain.ResourceAggregate
	cause.EventID = "e3"
	must(t, res.Create(domain.Resource{Name: "app", Type: "build", Spec: []byte(`{}`), Metadata: map[string]string{}}, "r1", cause))
	for _, events := range [][]domain.Event{def.Changes(), pipe.Changes(), res.Changes()} {
		if _, err := store.Append(ctx, events, 0); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var seen, typed []string
	handle := func(_ context.Context, events []domain.Event) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, events[0].EventMeta().Aggregate)
		return nil
	}
	handleTyped := func(_ context.Context, events []domain.Event) error {
		mu.Lock()
		defer mu.Unlock()
		typed = append(typed, events[0].EventMeta().Type)
		return nil
	}
	done := make(chan error, 1)
	go func() {
		done <- eventbus.Run(ctx, func() (*nats.Conn, error) { return ns.Connect() }, eventbus.Config{},
			eventbus.Subscription{Name: "two", Aggregates: []string{domain.AggregateResource, domain.AggregatePipeline}, Handle: handle},
			eventbus.Subscription{Name: "typed", Types: []string{domain.TypePipelineCreated}, Handle: handleTyped})
	}()
	waitConsumed(t, ctx, js, "typed", 3)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cons, err := js.Consumer(ctx, "CONVEYOR_EVENTS", "two")
		if err == nil && cons.CachedInfo().NumAckPending == 0 && cons.CachedInfo().AckFloor.Stream == 3 {
			cfg := cons.CachedInfo().Config
			if cfg.FilterSubject != "conveyor.events.>" || len(cfg.FilterSubjects) != 0 {
				t.Errorf("filter subject %q, filter subjects %q; want one filter subject, conveyor.events.>", cfg.FilterSubject, cfg.FilterSubjects)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the consumer did not take the three messages within 10s (%v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if want := []string{domain.AggregatePipeline, domain.AggregateResource}; !slices.Equal(seen, want) {
		t.Errorf("handled events of %q, want %q: the definition's is skipped", seen, want)
	}
	// A subscription to one type of event is handed that type only.
	if want := []string{domain.TypePipelineCreated}; !slices.Equal(typed, want) {
		t.Errorf("the subscription to %q handled %q", want, typed)
	}
}

// waitConsumed waits until the durable consumer name has acknowledged the
// log up to position seq.
func waitConsumed(t *testing.T, ctx context.Context, js jetstream.JetStream, name string, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cons, err := js.Consumer(ctx, "CONVEYOR_EVENTS", name)
		if err == nil {
			if info, err := cons.Info(ctx); err == nil && info.NumAckPending == 0 && info.AckFloor.Stream == seq {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer %s did not take the log up to %d within 10s (%v)", name, seq, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
