package commands_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/conditions"
	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/adapters/schema"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/google/uuid"
)

// memVault keeps secret values in memory.
type memVault map[string][]byte

func (v memVault) Put(_ context.Context, name string, value []byte) error {
	v[name] = value
	return nil
}

func (v memVault) Delete(_ context.Context, name string) error {
	delete(v, name)
	return nil
}

func (v memVault) Get(_ context.Context, name string) ([]byte, error) {
	if value, ok := v[name]; ok {
		return value, nil
	}
	return nil, domain.NotFound("secret " + name)
}

const hookBody = `{"ref":"refs/heads/main","after":"1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5"}`

// hookHandler is a handler on a fresh log with the definition build, the
// secret webhook and the trigger app-push, and its store.
func hookHandler(t *testing.T) (*commands.Handler, *eventstore.Store) {
	t.Helper()
	ctx := context.Background()
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	store, err := eventstore.New(ctx, js, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := conditions.NewHooks()
	if err != nil {
		t.Fatal(err)
	}
	vault := memVault{}
	h, err := commands.New(commands.Deps{Store: store, Schemas: schema.New(), Resources: noResources{}, Now: time.Now, NewID: uuid.NewString,
		Secrets: vault, SecretValues: vault, Triggers: hooks})
	if err != nil {
		t.Fatal(err)
	}
	saveDefinition(t, h, `{"type":"object","properties":{"ref":{"type":"string"}},"required":["ref"]}`)
	if err := h.SetSecret(ctx, commands.SetSecret{Name: "webhook", Value: []byte("s3cret")}); err != nil {
		t.Fatal(err)
	}
	_, _, err = h.SaveTrigger(ctx, commands.SaveTrigger{Trigger: domain.Trigger{Name: "app-push", Source: domain.SourceGitHub,
		Events: []string{"push"}, Secret: "webhook",
		Resource: domain.TriggerResource{Type: "build", Name: `"app-" + body.after.substring(0, 7)`, Spec: map[string]string{"ref": "body.after"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return h, store
}

// delivery is a GitHub push signed with key.
func delivery(id, key string) commands.ReceiveDelivery {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(hookBody))
	return commands.ReceiveDelivery{Trigger: "app-push", Delivery: domain.Delivery{Body: []byte(hookBody), Headers: map[string]string{
		"x-github-event": "push", "x-github-delivery": id, "x-hub-signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil))}}}
}

// A delivery whose TriggerFired is in the log without its resource write
// (the server stopped between the two) has it written when it comes again,
// caused by that TriggerFired and with its Run ID; after that, it writes
// nothing more.
func TestDeliveryCompletesAfterACrash(t *testing.T) {
	ctx := context.Background()
	h, store := hookHandler(t)
	first, err := h.ReceiveDelivery(ctx, delivery("d-1", "s3cret"))
	if err != nil || first.Outcome != commands.DeliveryFired || first.Resource.Version() != 1 {
		t.Fatalf("first delivery: %+v, %v", first, err)
	}

	var crashed domain.DeliveryAggregate
	firedID := domain.FiredEventID("app-push", "d-2")
	runID := uuid.NewString()
	f := domain.TriggerFired{Trigger: "app-push", Source: "github", Event: "push", Delivery: "d-2",
		Resource: domain.Resource{Type: "build", Name: "app-1a2b3c4", Spec: []byte(`{"ref":"1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5"}`)}}
	if err := crashed.Fire(f, domain.Cause{EventID: firedID, Time: time.Now(), CorrelationID: runID, CausationID: "d-2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, crashed.Changes(), 0); err != nil {
		t.Fatal(err)
	}

	for i := 0; i < 2; i++ {
		got, err := h.ReceiveDelivery(ctx, delivery("d-2", "s3cret"))
		if err != nil || got.Outcome != commands.DeliveryFired || got.RunID != runID || got.Resource.Version() != 2 {
			t.Fatalf("delivery d-2, time %d: %+v, %v; want version 2 of run %s", i+1, got, err, runID)
		}
	}
	events, err := store.Load(ctx, domain.AggregateResource, "build/app-1a2b3c4")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("resource events: %d, want 2 (one per delivery)", len(events))
	}
	m := events[1].EventMeta()
	if m.ID != domain.ResourceEventID(firedID) || m.CausationID != firedID || m.CorrelationID != runID {
		t.Errorf("the completed write: id %s caused by %s in %s; want %s caused by %s in %s",
			m.ID, m.CausationID, m.CorrelationID, domain.ResourceEventID(firedID), firedID, runID)
	}
}

// Deliveries that are not signed with the secret, or go to no trigger, are
// refused alike; a body that is not JSON is a BadDelivery.
func TestDeliveryRefusals(t *testing.T) {
	ctx := context.Background()
	h, _ := hookHandler(t)
	for name, c := range map[string]commands.ReceiveDelivery{
		"wrong secret":    delivery("d-1", "guess"),
		"unknown trigger": func() commands.ReceiveDelivery { c := delivery("d-1", "s3cret"); c.Trigger = "nobody"; return c }(),
		"invalid name":    func() commands.ReceiveDelivery { c := delivery("d-1", "s3cret"); c.Trigger = "No.Body"; return c }(),
	} {
		if _, err := h.ReceiveDelivery(ctx, c); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Errorf("%s: %v, want unauthenticated", name, err)
		}
	}
	c := delivery("d-1", "s3cret")
	c.Delivery.Body = []byte(`{"ref":`)
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write(c.Delivery.Body)
	c.Delivery.Headers["x-hub-signature-256"] = "sha256=" + hex.EncodeToString(mac.Sum(nil))
	var bad *commands.BadDelivery
	if _, err := h.ReceiveDelivery(ctx, c); !errors.As(err, &bad) {
		t.Errorf("a body that is not JSON: %v, want a BadDelivery", err)
	}
}

// The same delivery sent several times at once writes once, and every
// answer names the one run it started.
func TestConcurrentRedeliveriesAnswerAlike(t *testing.T) {
	ctx := context.Background()
	h, store := hookHandler(t)
	const n = 8
	answers := make([]commands.DeliveryOutcome, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errs[i] = h.ReceiveDelivery(ctx, delivery("same", "s3cret"))
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || answers[i].RunID != answers[0].RunID || answers[i].Resource.Version() != 1 {
			t.Errorf("answer %d: %+v, %v; want version 1 of run %s", i, answers[i], errs[i], answers[0].RunID)
		}
	}
	events, err := store.Load(ctx, domain.AggregateResource, "build/app-1a2b3c4")
	if err != nil || len(events) != 1 || events[0].EventMeta().CorrelationID != answers[0].RunID {
		t.Errorf("resource events: %d, %v; want one, of run %s", len(events), err, answers[0].RunID)
	}
}
