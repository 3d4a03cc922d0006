package commands

import (
	"context"
	"encoding/json"
	"time"

	"github.com/conveyor/conveyor/domain"
)

// EventStore is the append-only log of events, one stream per aggregate.
type EventStore interface {
	// Load returns the events of one aggregate in order, each with its
	// Meta.Sequence set; none (and no error) when the stream is empty.
	Load(ctx context.Context, aggregate, id string) ([]domain.Event, error)
	// Append appends e to the stream of its aggregate if that stream's last
	// event is still at log sequence expectedSeq (0: the stream must be
	// empty); otherwise it returns an error matching domain.ErrConflict.
	// e's ID deduplicates a retried append. It returns the log sequence of e
	// and sets e's Meta.Sequence.
	Append(ctx context.Context, e domain.Event, expectedSeq uint64) (uint64, error)
}

// Projector makes events visible in the read model. Project is idempotent
// and ordered per aggregate: events already applied are skipped.
type Projector interface {
	Project(ctx context.Context, events ...domain.Event) error
}

// SchemaValidator compiles JSON Schemas and validates specs against them.
// Errors are domain validation errors.
type SchemaValidator interface {
	Compile(schema json.RawMessage) error
	Validate(schema, doc json.RawMessage) error
}

// ResourceIndex answers whether resources of a definition exist.
type ResourceIndex interface {
	CountResources(ctx context.Context, typ string) (int, error)
}

// Clock tells the time; IDs makes unique identifiers (UUIDs).
type (
	Clock func() time.Time
	IDs   func() string
)
