package projections

import (
	"context"
	"encoding/json"
	"time"
)

// ParkedEvent is an event (or a message) a consumer could not handle and set
// aside, so that the events after it are not held back. It is kept until an
// operator removes it.
type ParkedEvent struct {
	// Consumer names who parked it: "projector", "engine", "intake".
	Consumer string `json:"consumer"`
	// Sequence is the log position of the message that was parked (0 when
	// it did not come from the event log).
	Sequence    uint64 `json:"sequence"`
	Type        string `json:"type,omitempty"`
	Aggregate   string `json:"aggregate,omitempty"`
	AggregateID string `json:"aggregateId,omitempty"`
	// Error says why it could not be handled.
	Error    string          `json:"error"`
	ParkedAt time.Time       `json:"parkedAt"`
	Body     json.RawMessage `json:"body,omitempty"`
	// ID is the parking place's own id of the entry, set when it is read.
	ID uint64 `json:"id,omitempty"`
}

// Parking keeps parked events. Implementations are safe for concurrent use.
type Parking interface {
	Park(ctx context.Context, p ParkedEvent) error
}
