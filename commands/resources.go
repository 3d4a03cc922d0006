package commands

import (
	"context"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// CreateResource submits a new resource.
type CreateResource struct {
	Resource  domain.Resource
	RequestID string
}

// ReplaceResource records a new version of a resource. ExpectedVersion, when
// not zero, guards against lost updates.
type ReplaceResource struct {
	Resource        domain.Resource
	ExpectedVersion int
	RequestID       string
}

// ResourceResult is the outcome of a resource write: the resource as the
// domain recorded it and the Run ID that is the correlation id of its event
// (the engine uses it for the run it starts).
type ResourceResult struct {
	Resource domain.Resource
	RunID    string
}

// CreateResource validates the resource (names, definition, pipeline, spec
// against the schema) and records ResourceCreated with a fresh Run ID.
func (h *Handler) CreateResource(ctx context.Context, c CreateResource) (ResourceResult, error) {
	return h.writeResource(ctx, c.Resource, c.RequestID, func(agg *domain.ResourceAggregate, cause domain.Cause) error {
		return agg.Create(c.Resource, h.newID(), cause)
	})
}

// ReplaceResource validates the resource as CreateResource does and records
// ResourceUpdated with a fresh Run ID.
func (h *Handler) ReplaceResource(ctx context.Context, c ReplaceResource) (ResourceResult, error) {
	return h.writeResource(ctx, c.Resource, c.RequestID, func(agg *domain.ResourceAggregate, cause domain.Cause) error {
		return agg.Replace(c.Resource, c.ExpectedVersion, cause)
	})
}

func (h *Handler) writeResource(ctx context.Context, r domain.Resource, requestID string,
	decide func(*domain.ResourceAggregate, domain.Cause) error) (ResourceResult, error) {
	if err := h.checkResource(ctx, r); err != nil {
		return ResourceResult{}, err
	}
	var agg domain.ResourceAggregate
	l, err := h.load(ctx, domain.AggregateResource, r.Key(), &agg)
	if err != nil {
		return ResourceResult{}, err
	}
	runID := h.newID()
	if err := decide(&agg, h.cause(runID, requestID)); err != nil {
		return ResourceResult{}, err
	}
	if err := h.save(ctx, l, &agg); err != nil {
		return ResourceResult{}, err
	}
	return ResourceResult{Resource: agg.State(), RunID: runID}, nil
}

// checkResource checks everything about r that does not depend on its own
// stream: names, the definition, the pipeline and the spec.
func (h *Handler) checkResource(ctx context.Context, r domain.Resource) error {
	if err := domain.CheckResource(r); err != nil {
		return err
	}
	def, err := h.definition(ctx, "resource", r.Type)
	if err != nil {
		return err
	}
	if err := h.checkPipelineOver(ctx, r.Pipeline, r.Type); err != nil {
		return err
	}
	return h.schemas.Validate(def, r.Spec)
}

// checkPipelineOver checks that the pipeline name, when not empty, exists
// and runs over resources of type typ.
func (h *Handler) checkPipelineOver(ctx context.Context, name, typ string) error {
	if name == "" {
		return nil
	}
	p, err := h.pipelineOf(ctx, name)
	if err != nil {
		return err
	}
	if !p.exists {
		return domain.Invalid("pipeline", fmt.Sprintf("pipeline %q does not exist", name))
	}
	if p.resource != typ {
		return domain.Invalid("pipeline", fmt.Sprintf("pipeline %q runs over resources of type %q, not %q", name, p.resource, typ))
	}
	return nil
}

// DeleteResource removes a resource.
type DeleteResource struct {
	Type, Name string
	RequestID  string
}

// DeleteResource records ResourceDeleted; the correlation id is a fresh id
// that drivers listening to the type receive with the delete.
func (h *Handler) DeleteResource(ctx context.Context, c DeleteResource) error {
	if err := checkNames("resource", c.Type, "name", c.Name); err != nil {
		return err
	}
	var agg domain.ResourceAggregate
	l, err := h.load(ctx, domain.AggregateResource, domain.ResourceKey(c.Type, c.Name), &agg)
	if err != nil {
		return err
	}
	if err := agg.Delete(c.Type, c.Name, h.cause(h.newID(), c.RequestID)); err != nil {
		return err
	}
	return h.save(ctx, l, &agg)
}
