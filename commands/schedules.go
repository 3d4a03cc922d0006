package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/conveyor/conveyor/domain"
)

// FireTick is one tick of the schedule trigger named Trigger.
type FireTick struct {
	Trigger string
	Tick    time.Time
}

// FireTick writes the resource of a schedule trigger for one of its ticks,
// as ReceiveDelivery does for a delivery whose id is
// domain.TickDeliveryID: TriggerFired, then the resource, once, whichever
// server asks and however often. The trigger is read from the log: one
// deleted, no longer a schedule, or whose schedule has no tick at c.Tick
// (it changed since the caller read it) writes nothing (DeliveryIgnored).
// Its events' actor is the trigger.
func (h *Handler) FireTick(ctx context.Context, c FireTick) (DeliveryOutcome, error) {
	var agg domain.TriggerAggregate
	if _, err := h.load(ctx, domain.AggregateTrigger, c.Trigger, &agg); err != nil {
		return DeliveryOutcome{}, err
	}
	t := agg.State()
	out := DeliveryOutcome{Event: domain.EventTick, Delivery: domain.TickDeliveryID(c.Trigger, c.Tick), Outcome: DeliveryIgnored}
	if !agg.Exists() || t.Source != domain.SourceSchedule || h.schedules == nil {
		out.Reason = fmt.Sprintf("trigger %q is not a schedule trigger", c.Trigger)
		return out, nil
	}
	s, err := h.schedules.Parse(t.Schedule, t.TimeZone)
	if err != nil {
		return DeliveryOutcome{}, err
	}
	if !s.Next(c.Tick.Add(-time.Nanosecond)).Equal(c.Tick) {
		out.Reason = fmt.Sprintf("%s is not a tick of %q", c.Tick.UTC().Format(time.RFC3339), t.Schedule)
		return out, nil
	}
	in := domain.TickInput(c.Tick, s.Location())
	if ok, err := h.holds(t, in); err != nil || !ok {
		out.Reason = "its condition is false: " + t.When
		return out, err
	}
	ctx = WithActor(ctx, domain.Actor{Kind: domain.ActorTrigger, Name: t.Name})
	return h.fireOnce(ctx, t, domain.TriggerFired{Trigger: t.Name, Source: t.Source, Event: domain.EventTick, Delivery: out.Delivery}, in)
}

// holds reports whether the trigger's `when` holds for in (true without
// one); an error names the field.
func (h *Handler) holds(t domain.Trigger, in domain.HookInput) (bool, error) {
	if t.When == "" {
		return true, nil
	}
	ok, err := h.triggers.Condition(t.When, in)
	if err != nil {
		return false, domain.Invalid("when", fmt.Sprintf("%q could not be evaluated: %v", t.When, err))
	}
	return ok, nil
}
