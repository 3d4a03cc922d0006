package commands

import (
	"context"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// SaveDefinition creates or replaces a resource definition.
type SaveDefinition struct {
	Definition domain.ResourceDefinition
	// RequestID, when set, is the causation id of the event.
	RequestID string
}

// DefinitionMode says what SaveDefinition may do.
type DefinitionMode int

// The modes of SaveDefinition.
const (
	CreateOnly     DefinitionMode = iota // fails with ErrConflict if it exists
	UpdateOnly                           // fails with ErrNotFound if it does not
	CreateOrUpdate                       // apply
)

// SaveDefinition checks the definition's name and compiles its schema, then
// records ResourceDefinitionCreated or ResourceDefinitionUpdated as mode
// allows. It returns the definition as stored.
// A replace that changes nothing appends nothing, and changed is false.
func (h *Handler) SaveDefinition(ctx context.Context, c SaveDefinition, mode DefinitionMode) (def domain.ResourceDefinition, changed bool, err error) {
	def = c.Definition
	if err := domain.CheckName("name", def.Name); err != nil {
		return domain.ResourceDefinition{}, false, err
	}
	if err := h.schemas.Compile(def); err != nil {
		return domain.ResourceDefinition{}, false, err
	}
	var agg domain.Definition
	l, err := h.load(ctx, domain.AggregateDefinition, def.Name, &agg)
	if err != nil {
		return domain.ResourceDefinition{}, false, err
	}
	cause := h.cause("", c.RequestID)
	switch {
	case mode == CreateOnly || (mode == CreateOrUpdate && !agg.Exists()):
		err = agg.Create(def, h.newID(), cause)
	default:
		err = agg.Update(def, cause)
	}
	if err != nil {
		return domain.ResourceDefinition{}, false, err
	}
	if err := h.save(ctx, l, &agg); err != nil {
		return domain.ResourceDefinition{}, false, err
	}
	return agg.State(), len(agg.Changes()) > 0, nil
}

// DeleteDefinition removes a definition that no resource uses any more.
type DeleteDefinition struct {
	Name      string
	RequestID string
}

// DeleteDefinition records ResourceDefinitionDeleted; it fails with
// domain.ErrInUse while resources of the definition exist.
func (h *Handler) DeleteDefinition(ctx context.Context, c DeleteDefinition) error {
	if err := domain.CheckName("name", c.Name); err != nil {
		return err
	}
	var agg domain.Definition
	l, err := h.load(ctx, domain.AggregateDefinition, c.Name, &agg)
	if err != nil {
		return err
	}
	if agg.Exists() {
		n, err := h.resources.CountResources(ctx, c.Name)
		if err != nil {
			return fmt.Errorf("count resources of %q: %w", c.Name, err)
		}
		if n > 0 {
			return fmt.Errorf("resource definition %q still has %d resource(s); delete them first: %w", c.Name, n, domain.ErrInUse)
		}
	}
	if err := agg.Delete(c.Name, h.cause("", c.RequestID)); err != nil {
		return err
	}
	return h.save(ctx, l, &agg)
}
