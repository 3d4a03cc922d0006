package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Metadata keys the server owns.
const (
	// MetaVersion holds the resource version: "1" on create, +1 per replace.
	MetaVersion = "version"
	// MetaResultPrefix prefixes the result of each driver that worked on the
	// resource: "driverresults.{driver}" holds the result as a JSON string.
	MetaResultPrefix = "driverresults."
)

// Resource is an instance of a definition. Type names the definition (the
// wire field is "resource"); Spec is a JSON object valid against its schema.
type Resource struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Type     string            `json:"resource"`
	Pipeline string            `json:"pipeline,omitempty"`
	Metadata map[string]string `json:"metadata"`
	Spec     json.RawMessage   `json:"spec"`
}

// Version is the resource version recorded in its metadata (0 if none).
func (r Resource) Version() int {
	v, _ := strconv.Atoi(r.Metadata[MetaVersion])
	return v
}

// ResourceKey is the aggregate id of the resource typ/name.
func ResourceKey(typ, name string) string { return typ + "/" + name }

// Key is the aggregate id of the resource.
func (r Resource) Key() string { return ResourceKey(r.Type, r.Name) }

// Resource events.
const (
	TypeResourceCreated = "ResourceCreated.v1"
	TypeResourceUpdated = "ResourceUpdated.v1"
	TypeResourceDeleted = "ResourceDeleted.v1"
)

// ResourceCreated: a resource was submitted. Its correlation id is the Run ID
// handed to the client.
type ResourceCreated struct {
	Meta
	Resource Resource `json:"resource"`
}

// ResourceUpdated: a resource was replaced; Resource holds its new version.
// Its metadata holds the client's keys and the version; the driver results
// the resource had are kept by the read model.
type ResourceUpdated struct {
	Meta
	Resource Resource `json:"resource"`
}

// ResourceDeleted: a resource was removed.
type ResourceDeleted struct {
	Meta
	// ID is the resource's id (the event's own id is Meta.ID).
	ID   string `json:"resourceId"`
	Type string `json:"resource"`
	Name string `json:"name"`
}

func init() {
	register(TypeResourceCreated, func() Event { return &ResourceCreated{} })
	register(TypeResourceUpdated, func() Event { return &ResourceUpdated{} })
	register(TypeResourceDeleted, func() Event { return &ResourceDeleted{} })
}

// ResourceAggregate is the Resource aggregate.
type ResourceAggregate struct {
	state   Resource
	exists  bool
	version uint64
	changes []Event
}

// Version is the aggregate version: the number of events applied.
func (a *ResourceAggregate) Version() uint64 { return a.version }

// Exists reports whether the resource exists.
func (a *ResourceAggregate) Exists() bool { return a.exists }

// State is the current resource.
func (a *ResourceAggregate) State() Resource { return a.state }

// Changes are the events recorded since the aggregate was loaded.
func (a *ResourceAggregate) Changes() []Event { return a.changes }

// Apply folds one event into the aggregate.
func (a *ResourceAggregate) Apply(e Event) {
	switch e := e.(type) {
	case *ResourceCreated:
		a.state, a.exists = e.Resource, true
	case *ResourceUpdated:
		a.state = e.Resource
	case *ResourceDeleted:
		a.state, a.exists = Resource{}, false
	}
	a.version = e.EventMeta().Version
}

func (a *ResourceAggregate) record(e Event) {
	a.Apply(e)
	a.changes = append(a.changes, e)
}

// CheckResource checks the names and the shape of the spec; validating the
// spec against the schema is the caller's job.
func CheckResource(r Resource) error {
	var problems ValidationErrors
	add := func(err error) {
		if err != nil {
			problems = append(problems, err.(*ValidationError))
		}
	}
	add(CheckName("resource", r.Type))
	add(CheckName("name", r.Name))
	if r.Pipeline != "" {
		add(CheckName("pipeline", r.Pipeline))
	}
	if !IsJSONObject(r.Spec) {
		add(Invalid("spec", "must be a JSON object"))
	}
	add(checkSize("spec", len(r.Spec), MaxSpecBytes))
	add(checkSize("metadata", metadataBytes(clientMetadata(r.Metadata)), MaxMetadataBytes))
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// IsJSONObject reports whether raw looks like a JSON object.
func IsJSONObject(raw json.RawMessage) bool {
	trimmed := bytes.TrimSpace(raw)
	return len(trimmed) >= 2 && trimmed[0] == '{'
}

// clientMetadata keeps the client's own keys: everything but the version and
// the driver results, which the server owns.
func clientMetadata(in map[string]string) map[string]string {
	out := make(map[string]string, len(in)+1)
	for k, v := range in {
		if k == MetaVersion || strings.HasPrefix(k, MetaResultPrefix) {
			continue
		}
		out[k] = v
	}
	return out
}

// Create submits a new resource with id. A resource deleted before may be
// created again; its versions start at 1 again.
func (a *ResourceAggregate) Create(r Resource, id string, c Cause) error {
	if err := CheckResource(r); err != nil {
		return err
	}
	if a.exists {
		return alreadyExists("resource", r.Key())
	}
	r.ID = id
	r.Metadata = clientMetadata(r.Metadata)
	r.Metadata[MetaVersion] = "1"
	a.record(&ResourceCreated{Meta: c.meta(TypeResourceCreated, AggregateResource, r.Key(), a.version+1), Resource: r})
	return nil
}

// Replace records a new version of the resource. When expectedVersion is not
// zero it must equal the current resource version, so a client that read an
// older version cannot overwrite a newer one. The id and the client's
// metadata keys given in r are kept; the driver results stay in the read
// model.
func (a *ResourceAggregate) Replace(r Resource, expectedVersion int, c Cause) error {
	if err := CheckResource(r); err != nil {
		return err
	}
	if !a.exists {
		return notFound("resource", r.Key())
	}
	current := a.state.Version()
	if expectedVersion != 0 && expectedVersion != current {
		return fmt.Errorf("resource %q is at version %d, not %d: %w", r.Key(), current, expectedVersion, ErrConflict)
	}
	r.ID = a.state.ID
	r.Metadata = clientMetadata(r.Metadata)
	r.Metadata[MetaVersion] = strconv.Itoa(current + 1)
	a.record(&ResourceUpdated{Meta: c.meta(TypeResourceUpdated, AggregateResource, r.Key(), a.version+1), Resource: r})
	return nil
}

// Delete removes the resource.
func (a *ResourceAggregate) Delete(typ, name string, c Cause) error {
	if !a.exists {
		return notFound("resource", ResourceKey(typ, name))
	}
	a.record(&ResourceDeleted{Meta: c.meta(TypeResourceDeleted, AggregateResource, ResourceKey(typ, name), a.version+1),
		ID: a.state.ID, Type: typ, Name: name})
	return nil
}
