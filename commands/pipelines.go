package commands

import (
	"context"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// SavePipeline creates or replaces a pipeline.
type SavePipeline struct {
	Pipeline  domain.Pipeline
	RequestID string
}

// SavePipeline checks the pipeline's steps and that its resource type is
// defined, then records PipelineCreated or PipelineUpdated as mode allows.
func (h *Handler) SavePipeline(ctx context.Context, c SavePipeline, mode DefinitionMode) (domain.Pipeline, bool, error) {
	p := c.Pipeline
	if err := domain.CheckPipeline(p); err != nil {
		return domain.Pipeline{}, false, err
	}
	if problems := domain.CheckConditions(p, h.conditions); len(problems) > 0 {
		return domain.Pipeline{}, false, problems
	}
	if err := h.requireDefinition(ctx, "resource", p.Resource); err != nil {
		return domain.Pipeline{}, false, err
	}
	var agg domain.PipelineAggregate
	l, err := h.load(ctx, domain.AggregatePipeline, p.Name, &agg)
	if err != nil {
		return domain.Pipeline{}, false, err
	}
	cause := h.cause("", c.RequestID)
	switch {
	case mode == CreateOnly || (mode == CreateOrUpdate && !agg.Exists()):
		err = agg.Create(p, cause)
	default:
		err = agg.Update(p, cause)
	}
	if err != nil {
		return domain.Pipeline{}, false, err
	}
	if err := h.save(ctx, l, &agg); err != nil {
		return domain.Pipeline{}, false, err
	}
	return agg.State(), len(agg.Changes()) > 0, nil
}

// DeletePipeline removes a pipeline. Runs already started finish with the
// pipeline they started with.
type DeletePipeline struct {
	Name      string
	RequestID string
}

// DeletePipeline records PipelineDeleted.
func (h *Handler) DeletePipeline(ctx context.Context, c DeletePipeline) error {
	if err := domain.CheckName("name", c.Name); err != nil {
		return err
	}
	var agg domain.PipelineAggregate
	l, err := h.load(ctx, domain.AggregatePipeline, c.Name, &agg)
	if err != nil {
		return err
	}
	if err := agg.Delete(c.Name, h.cause("", c.RequestID)); err != nil {
		return err
	}
	return h.save(ctx, l, &agg)
}

// requireDefinition loads the definition typ and returns it, or a
// validation error on field when it does not exist.
func (h *Handler) requireDefinition(ctx context.Context, field, typ string) error {
	_, err := h.definition(ctx, field, typ)
	return err
}

func (h *Handler) definition(ctx context.Context, field, typ string) (domain.ResourceDefinition, error) {
	if err := domain.CheckName(field, typ); err != nil {
		return domain.ResourceDefinition{}, err
	}
	d, err := h.defs.get(ctx, h.heads, domain.AggregateDefinition, typ, func() (definitionState, uint64, error) {
		var def domain.Definition
		l, err := h.load(ctx, domain.AggregateDefinition, typ, &def)
		return definitionState{def: def.State(), exists: def.Exists()}, l.lastSeq, err
	})
	if err != nil {
		return domain.ResourceDefinition{}, err
	}
	if !d.exists {
		return domain.ResourceDefinition{}, domain.Invalid(field, fmt.Sprintf("resource definition %q does not exist", typ))
	}
	return d.def, nil
}

// definitionState is what a resource is checked against: its definition.
type definitionState struct {
	def    domain.ResourceDefinition
	exists bool
}

// pipelineState is what a resource is checked against: whether the
// pipeline it names exists, and the type of resource it runs over.
type pipelineState struct {
	exists   bool
	resource string
}

// pipelineOf is the state of the pipeline name as a resource is checked.
func (h *Handler) pipelineOf(ctx context.Context, name string) (pipelineState, error) {
	return h.pipelines.get(ctx, h.heads, domain.AggregatePipeline, name, func() (pipelineState, uint64, error) {
		var p domain.PipelineAggregate
		l, err := h.load(ctx, domain.AggregatePipeline, name, &p)
		return pipelineState{exists: p.Exists(), resource: p.State().Resource}, l.lastSeq, err
	})
}
