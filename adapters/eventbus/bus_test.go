package eventbus_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/eventbus"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/nats-io/nats.go"
)

// poisonQueue is a watermill publisher that keeps what it is handed.
type poisonQueue struct {
	mu   sync.Mutex
	msgs []*message.Message
}

func (p *poisonQueue) Publish(_ string, msgs ...*message.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func (p *poisonQueue) Close() error { return nil }

func (p *poisonQueue) reasons() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.msgs {
		out = append(out, m.Metadata.Get(middleware.ReasonForPoisonedKey))
	}
	return out
}

func definitionCreated(t *testing.T, name string) domain.Event {
	t.Helper()
	var d domain.Definition
	err := d.Create(domain.ResourceDefinition{Name: name, Schema: json.RawMessage(`{}`)}, name+"-id",
		domain.Cause{EventID: name + "-event", Time: time.Now(), CausationID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return d.Changes()[0]
}

// runBus appends a definition-created event for each name and runs a
// consumer of them with handle until ctx ends; Run's error arrives on the
// channel.
func runBus(ctx context.Context, t *testing.T, names []string, handle eventbus.Handler, cfg eventbus.Config) <-chan error {
	t.Helper()
	ns := embedtest.NATS(t, "")
	_, js := embedtest.JetStream(t, ns)
	store, err := eventstore.New(ctx, js, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if _, err := store.Append(ctx, []domain.Event{definitionCreated(t, name)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		done <- eventbus.Run(ctx, func() (*nats.Conn, error) { return ns.Connect() }, cfg,
			eventbus.Subscription{Name: "test", Handle: handle})
	}()
	return done
}

// A handler that panics on one message and fails on another: neither ends
// the consumer, both are parked after their retries, and every message
// after them is handled.
func TestAPanicOrAFailureIsParkedAndTheConsumerGoesOn(t *testing.T) {
	var mu sync.Mutex
	handled := map[string]int{}
	handle := func(_ context.Context, events []domain.Event) error {
		name := events[0].(*domain.ResourceDefinitionCreated).Definition.Name
		mu.Lock()
		handled[name]++
		mu.Unlock()
		switch name {
		case "panics":
			panic("a bug in a handler")
		case "fails":
			return domain.Invalid("name", "this event can never be handled")
		}
		return nil
	}
	poison := &poisonQueue{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runBus(ctx, t, []string{"before", "panics", "fails", "after"}, handle,
		eventbus.Config{Retries: 2, Poison: poison})
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		after := handled["after"]
		mu.Unlock()
		if after > 0 && len(poison.reasons()) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: handled %v, parked %q", handled, poison.reasons())
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("the consumer stopped: %v", err)
	default:
	}
	mu.Lock()
	if handled["panics"] != 3 || handled["fails"] != 3 || handled["before"] != 1 {
		t.Errorf("handled %v, want the failing ones 3 times (1 + 2 retries) and the others once", handled)
	}
	mu.Unlock()
	reasons := poison.reasons()
	if len(reasons) != 2 || !strings.Contains(reasons[0], "a bug in a handler") || !strings.Contains(reasons[1], "can never be handled") {
		t.Errorf("parked with reasons %q", reasons)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
