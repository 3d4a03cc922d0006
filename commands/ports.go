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
	// Meta.Sequence set; none (and no error) when the stream is empty. For
	// an aggregate that records snapshots (domain.Snapshot), it starts
	// with the message of the last one: the events before it are not read.
	Load(ctx context.Context, aggregate, id string) ([]domain.Event, error)
	// Append appends events, all of one aggregate, to its stream as one
	// message (all or none) if that stream's last message is still at log
	// sequence expectedSeq (0: the stream must be empty); otherwise it
	// returns an error matching domain.ErrConflict. The first event's ID
	// deduplicates a retried append: a repeat of an append already in the
	// log returns its sequence and an error matching domain.ErrAlreadyStored.
	// It returns the log sequence of the message and sets each event's
	// Meta.Sequence to it.
	Append(ctx context.Context, events []domain.Event, expectedSeq uint64) (uint64, error)
}

// SchemaValidator compiles the JSON Schema of a definition and validates
// specs against it, as the definition says (its FormatAssertion). Errors
// are domain validation errors.
type SchemaValidator interface {
	Compile(def domain.ResourceDefinition) error
	Validate(def domain.ResourceDefinition, spec json.RawMessage) error
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
