package domain

import (
	"bytes"
	"encoding/json"
)

// ResourceDefinition is a named kind of resource with a JSON Schema for the
// spec of its resources.
type ResourceDefinition struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Version     string          `json:"version"`
	Schema      json.RawMessage `json:"schema"`
	// FormatAssertion makes "format" in Schema an assertion: a spec whose
	// string breaks its format ("email", "date-time", "uuid", …) is
	// refused. Without it, as JSON Schema 2020-12 says by default, format
	// is an annotation only and such a spec is accepted.
	FormatAssertion bool `json:"formatAssertion,omitempty"`
}

// Definition events. Wire names are stable and versioned.
const (
	TypeDefinitionCreated = "ResourceDefinitionCreated.v1"
	TypeDefinitionUpdated = "ResourceDefinitionUpdated.v1"
	TypeDefinitionDeleted = "ResourceDefinitionDeleted.v1"
)

// ResourceDefinitionCreated: a definition was registered.
type ResourceDefinitionCreated struct {
	Meta
	Definition ResourceDefinition `json:"definition"`
}

// ResourceDefinitionUpdated: a definition's description, version, schema or
// format assertion was replaced.
type ResourceDefinitionUpdated struct {
	Meta
	Definition ResourceDefinition `json:"definition"`
}

// ResourceDefinitionDeleted: a definition was removed.
type ResourceDefinitionDeleted struct {
	Meta
	Name string `json:"name"`
}

func init() {
	register(TypeDefinitionCreated, func() Event { return &ResourceDefinitionCreated{} })
	register(TypeDefinitionUpdated, func() Event { return &ResourceDefinitionUpdated{} })
	register(TypeDefinitionDeleted, func() Event { return &ResourceDefinitionDeleted{} })
}

// Definition is the ResourceDefinition aggregate. It changes only by
// recording events; rebuild it with Apply.
type Definition struct {
	state   ResourceDefinition
	exists  bool
	version uint64
	changes []Event
}

// Version is the aggregate version: the number of events applied.
func (d *Definition) Version() uint64 { return d.version }

// Exists reports whether the definition exists (created and not deleted).
func (d *Definition) Exists() bool { return d.exists }

// State is the current definition.
func (d *Definition) State() ResourceDefinition { return d.state }

// Changes are the events recorded since the aggregate was loaded.
func (d *Definition) Changes() []Event { return d.changes }

// Apply folds one event into the aggregate.
func (d *Definition) Apply(e Event) {
	switch e := e.(type) {
	case *ResourceDefinitionCreated:
		d.state, d.exists = e.Definition, true
	case *ResourceDefinitionUpdated:
		d.state = e.Definition
	case *ResourceDefinitionDeleted:
		d.state, d.exists = ResourceDefinition{}, false
	}
	d.version = e.EventMeta().Version
}

func (d *Definition) record(e Event) {
	d.Apply(e)
	d.changes = append(d.changes, e)
}

func checkDefinition(def ResourceDefinition) error {
	var problems ValidationErrors
	if err := CheckName("name", def.Name); err != nil {
		problems = append(problems, err.(*ValidationError))
	}
	trimmed := bytes.TrimSpace(def.Schema)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		problems = append(problems, Invalid("schema", "is required"))
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// Create registers a new definition with id. The schema must already have
// been compiled by the caller (compiling needs a library, not the domain).
func (d *Definition) Create(def ResourceDefinition, id string, c Cause) error {
	if err := checkDefinition(def); err != nil {
		return err
	}
	if d.exists {
		return alreadyExists("resource definition", def.Name)
	}
	def.ID = id
	d.record(&ResourceDefinitionCreated{Meta: c.meta(TypeDefinitionCreated, AggregateDefinition, def.Name, d.version+1), Definition: def})
	return nil
}

// Update replaces the definition's description, version, schema and format
// assertion; its id stays. A replace that changes nothing records nothing.
func (d *Definition) Update(def ResourceDefinition, c Cause) error {
	if err := checkDefinition(def); err != nil {
		return err
	}
	if !d.exists {
		return notFound("resource definition", def.Name)
	}
	if sameDefinition(d.state, def) {
		return nil
	}
	def.ID = d.state.ID
	d.record(&ResourceDefinitionUpdated{Meta: c.meta(TypeDefinitionUpdated, AggregateDefinition, def.Name, d.version+1), Definition: def})
	return nil
}

// Delete removes the definition. The caller checks that no resource of it
// exists.
func (d *Definition) Delete(name string, c Cause) error {
	if !d.exists {
		return notFound("resource definition", name)
	}
	d.record(&ResourceDefinitionDeleted{Meta: c.meta(TypeDefinitionDeleted, AggregateDefinition, name, d.version+1), Name: name})
	return nil
}
