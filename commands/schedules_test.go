package commands_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/conditions"
	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/adapters/schedules"
	"github.com/conveyor/conveyor/adapters/schema"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
)

// nightly is a schedule trigger writing build/nightly-{stamp} at 02:00 in
// Paris.
var nightly = domain.Trigger{Name: "nightly", Source: domain.SourceSchedule, Schedule: "0 2 * * *", TimeZone: "Europe/Paris",
	Resource: domain.TriggerResource{Type: "build", Name: `"nightly-" + tick_stamp`, Spec: map[string]string{"ref": `"main@" + string(tick_unix)`}}}

// scheduleHandlers are n handlers, as n servers have, on one fresh log with
// the definition build and the trigger nightly, and the log's store.
func scheduleHandlers(t *testing.T, n int) ([]*commands.Handler, *eventstore.Store) {
	t.Helper()
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	var hs []*commands.Handler
	var store *eventstore.Store
	for range n {
		var h *commands.Handler
		h, store = scheduleHandler(t, js)
		hs = append(hs, h)
	}
	saveDefinition(t, hs[0], `{"type":"object","properties":{"ref":{"type":"string"}},"required":["ref"]}`)
	if _, _, err := hs[0].SaveTrigger(context.Background(), commands.SaveTrigger{Trigger: nightly}); err != nil {
		t.Fatal(err)
	}
	return hs, store
}

func scheduleHandler(t *testing.T, js jetstream.JetStream) (*commands.Handler, *eventstore.Store) {
	t.Helper()
	store, err := eventstore.New(context.Background(), js, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := conditions.NewHooks()
	if err != nil {
		t.Fatal(err)
	}
	h, err := commands.New(commands.Deps{Store: store, Schemas: schema.New(), Resources: noResources{}, Now: time.Now, NewID: uuid.NewString,
		Triggers: hooks, Schedules: schedules.Cron{}})
	if err != nil {
		t.Fatal(err)
	}
	return h, store
}

// A tick fired by three servers at once writes one TriggerFired and one
// resource, caused by the trigger, and the three answer with its one Run
// ID; the next tick writes the next resource.
func TestFireTickWritesOncePerTick(t *testing.T) {
	ctx := context.Background()
	hs, store := scheduleHandlers(t, 3)
	paris, _ := time.LoadLocation("Europe/Paris")
	tick := time.Date(2026, 12, 7, 2, 0, 0, 0, paris)
	for _, at := range []time.Time{tick, tick.AddDate(0, 0, 1)} {
		answers := make([]commands.DeliveryOutcome, len(hs))
		errs := make([]error, len(hs))
		var wg sync.WaitGroup
		for i, h := range hs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i], errs[i] = h.FireTick(ctx, commands.FireTick{Trigger: "nightly", Tick: at})
			}()
		}
		wg.Wait()
		name := "nightly-" + at.Format(domain.TickStampLayout)
		for i := range hs {
			if errs[i] != nil || answers[i].Outcome != commands.DeliveryFired || answers[i].RunID != answers[0].RunID ||
				answers[i].Resource.Name != name || answers[i].Delivery != domain.TickDeliveryID("nightly", at) {
				t.Errorf("tick %s, server %d: %+v, %v; want %s fired in run %s", at, i, answers[i], errs[i], name, answers[0].RunID)
			}
		}
		fired, err := store.Load(ctx, domain.AggregateDelivery, domain.DeliveryKey("nightly", domain.TickDeliveryID("nightly", at)))
		if err != nil || len(fired) != 1 {
			t.Fatalf("tick %s: %d TriggerFired, %v; want one", at, len(fired), err)
		}
		if a := fired[0].EventMeta().Actor; a == nil || a.Kind != domain.ActorTrigger || a.Name != "nightly" {
			t.Errorf("tick %s: actor %+v, want the trigger", at, a)
		}
		written, err := store.Load(ctx, domain.AggregateResource, "build/"+name)
		if err != nil || len(written) != 1 || written[0].EventMeta().CorrelationID != answers[0].RunID {
			t.Errorf("tick %s: %d resource events, %v; want one of run %s", at, len(written), err, answers[0].RunID)
		}
	}
}

// A time that is not a tick of the trigger's schedule (it changed since the
// scheduler read it) and a trigger that does not exist write nothing.
func TestFireTickIgnoresWhatIsNoTick(t *testing.T) {
	ctx := context.Background()
	hs, store := scheduleHandlers(t, 1)
	h := hs[0]
	notTick := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	before, err := store.LastSequence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := h.FireTick(ctx, commands.FireTick{Trigger: "nightly", Tick: notTick}); err != nil || out.Outcome != commands.DeliveryIgnored {
		t.Errorf("not a tick: %+v, %v; want ignored", out, err)
	}
	if out, err := h.FireTick(ctx, commands.FireTick{Trigger: "nobody", Tick: notTick}); err != nil || out.Outcome != commands.DeliveryIgnored {
		t.Errorf("no trigger: %+v, %v; want ignored", out, err)
	}
	if after, _ := store.LastSequence(ctx); after != before {
		t.Errorf("the log went from %d to %d", before, after)
	}
}

// A schedule that cannot be read, or a secret on a schedule trigger, is
// refused naming the field.
func TestSaveScheduleTriggerRefusals(t *testing.T) {
	ctx := context.Background()
	hs, _ := scheduleHandlers(t, 1)
	for name, tc := range map[string]struct {
		change func(*domain.Trigger)
		field  string
	}{
		"a bad cron expression": {func(t *domain.Trigger) { t.Schedule = "0 25 * * *" }, "schedule"},
		"a bad time zone":       {func(t *domain.Trigger) { t.TimeZone = "Europe/Atlantis" }, "timeZone"},
		"a secret":              {func(t *domain.Trigger) { t.Secret = "webhook" }, "secret"},
		"insecure":              {func(t *domain.Trigger) { t.Insecure = true }, "insecure"},
	} {
		tr := nightly
		tc.change(&tr)
		_, _, err := hs[0].SaveTrigger(ctx, commands.SaveTrigger{Trigger: tr})
		problems, ok := domain.AsValidation(err)
		if !ok || len(problems) != 1 || problems[0].Field != tc.field {
			t.Errorf("%s: %v, want one problem with %s", name, err, tc.field)
		}
	}
}
