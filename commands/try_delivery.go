package commands

import (
	"context"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// DeliveryWouldFire is the outcome of a tried delivery that a real one
// like it would fire with.
const DeliveryWouldFire = "would fire"

// TryDelivery is a delivery to try on the trigger named Trigger: Event,
// when set, is its event, in place of the one its headers name.
type TryDelivery struct {
	Trigger  string
	Event    string
	Delivery domain.Delivery
}

// TriedDelivery is what a delivery like the one tried would do: its
// outcome (DeliveryWouldFire, DeliveryIgnored or DeliveryPing), and for
// one that would fire, the resource it would write and where its runs
// would be reported.
type TriedDelivery struct {
	DeliveryOutcome
	Report *domain.StatusTarget
}

// TryDelivery evaluates the trigger on a delivery as POST /hooks would,
// but for its signature (the caller is trusted) and its id, and writes
// nothing: the event, the condition, the resource's name and spec checked
// against its definition, and the report's repository and commit. An
// expression that fails, or a resource the definition refuses, is the
// error a real delivery would meet.
func (h *Handler) TryDelivery(ctx context.Context, c TryDelivery) (TriedDelivery, error) {
	if err := domain.CheckName("name", c.Trigger); err != nil {
		return TriedDelivery{}, err
	}
	if h.triggers == nil {
		return TriedDelivery{}, domain.NotFound(fmt.Sprintf("trigger %q", c.Trigger))
	}
	var agg domain.TriggerAggregate
	if _, err := h.load(ctx, domain.AggregateTrigger, c.Trigger, &agg); err != nil {
		return TriedDelivery{}, err
	}
	t := agg.State()
	if !agg.Exists() {
		return TriedDelivery{}, domain.NotFound(fmt.Sprintf("trigger %q", c.Trigger))
	}
	if t.Source == domain.SourceSchedule {
		return TriedDelivery{}, domain.Invalid("trigger", fmt.Sprintf("%q is a schedule: it takes no deliveries", c.Trigger))
	}
	out, in, _, err := h.evaluate(t, c.Delivery, c.Event)
	if err != nil || out.Outcome != "" {
		return TriedDelivery{DeliveryOutcome: out}, err
	}
	var report *domain.StatusTarget
	if out.Resource, report, err = h.firing(ctx, t, in); err != nil {
		return TriedDelivery{}, err
	}
	out.Outcome = DeliveryWouldFire
	return TriedDelivery{DeliveryOutcome: out, Report: report}, nil
}
