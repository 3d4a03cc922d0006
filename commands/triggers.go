package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// SaveTrigger creates or replaces a trigger.
type SaveTrigger struct {
	Trigger   domain.Trigger
	RequestID string
}

// SaveTrigger checks the trigger (source, events, expressions that compile,
// a resource type that is defined, a pipeline over that type, a secret that
// is set, no insecure trigger on an API reachable off loopback), then
// records TriggerSaved unless nothing changed. It reports whether it did.
func (h *Handler) SaveTrigger(ctx context.Context, c SaveTrigger) (domain.Trigger, bool, error) {
	t := c.Trigger
	if err := domain.CheckTrigger(t); err != nil {
		return domain.Trigger{}, false, err
	}
	problems := domain.CheckTriggerExpressions(t, h.triggers)
	if t.Insecure && h.offLoopback {
		problems = append(problems, domain.Invalid("insecure", "must be false: the API listens off loopback, where anyone who "+
			"reaches it could start runs; name a secret instead"))
	}
	if t.Source == domain.SourceSchedule {
		problems = append(problems, h.checkSchedule(t)...)
	}
	if len(problems) > 0 {
		return domain.Trigger{}, false, problems
	}
	if err := h.checkTriggerRefs(ctx, t); err != nil {
		return domain.Trigger{}, false, err
	}
	var agg domain.TriggerAggregate
	l, err := h.load(ctx, domain.AggregateTrigger, t.Name, &agg)
	if err != nil {
		return domain.Trigger{}, false, err
	}
	if err := agg.Save(t, h.cause("", c.RequestID)); err != nil {
		return domain.Trigger{}, false, err
	}
	if err := h.save(ctx, l, &agg); err != nil {
		return domain.Trigger{}, false, err
	}
	return agg.State(), len(agg.Changes()) > 0, nil
}

// checkSchedule reads a schedule trigger's expression in its time zone.
func (h *Handler) checkSchedule(t domain.Trigger) domain.ValidationErrors {
	if h.schedules == nil {
		return domain.ValidationErrors{domain.Invalid("schedule", "schedules are not available on this server")}
	}
	var invalid *domain.ValidationError
	if _, err := h.schedules.Parse(t.Schedule, t.TimeZone); errors.As(err, &invalid) {
		return domain.ValidationErrors{invalid}
	} else if err != nil {
		return domain.ValidationErrors{domain.Invalid("schedule", err.Error())}
	}
	return nil
}

// checkTriggerRefs checks what the trigger names: its resource type, its
// pipeline, its secret and its report's token.
func (h *Handler) checkTriggerRefs(ctx context.Context, t domain.Trigger) error {
	if err := h.requireDefinition(ctx, "resource.type", t.Resource.Type); err != nil {
		return err
	}
	if err := h.checkPipelineOver(ctx, t.Pipeline, t.Resource.Type); err != nil {
		return err
	}
	if t.Secret != "" {
		if err := h.requireSecret(ctx, "secret", t.Secret); err != nil {
			return err
		}
	}
	if t.Report != nil {
		return h.requireSecret(ctx, "report.token", t.Report.Token)
	}
	return nil
}

// requireSecret refuses, naming field, a secret name that is not set.
func (h *Handler) requireSecret(ctx context.Context, field, name string) error {
	var secret domain.SecretAggregate
	if _, err := h.load(ctx, domain.AggregateSecret, name, &secret); err != nil {
		return err
	}
	if !secret.Exists() {
		return domain.Invalid(field, fmt.Sprintf("secret %q is not set: conveyor secrets set %s", name, name))
	}
	return nil
}

// DeleteTrigger removes a trigger; deliveries to it are refused from then
// on.
type DeleteTrigger struct {
	Name      string
	RequestID string
}

// DeleteTrigger records TriggerDeleted.
func (h *Handler) DeleteTrigger(ctx context.Context, c DeleteTrigger) error {
	if err := domain.CheckName("name", c.Name); err != nil {
		return err
	}
	var agg domain.TriggerAggregate
	l, err := h.load(ctx, domain.AggregateTrigger, c.Name, &agg)
	if err != nil {
		return err
	}
	if err := agg.Delete(c.Name, h.cause("", c.RequestID)); err != nil {
		return err
	}
	return h.save(ctx, l, &agg)
}
