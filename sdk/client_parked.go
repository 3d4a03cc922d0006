package sdk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ParkedEvent is an event (or a message) a consumer of the server's event
// log could not handle and set aside, so that the events after it went on.
// It stays until an operator removes it.
type ParkedEvent struct {
	// ID is the entry's id, to remove it with.
	ID uint64 `json:"id"`
	// Consumer names who parked it: "projector", "engine", "intake".
	Consumer string `json:"consumer"`
	// Sequence is the event's log position (0: the message was not from the
	// event log).
	Sequence    uint64    `json:"sequence"`
	Type        string    `json:"type,omitempty"`
	Aggregate   string    `json:"aggregate,omitempty"`
	AggregateID string    `json:"aggregateId,omitempty"`
	Error       string    `json:"error"`
	ParkedAt    time.Time `json:"parkedAt"`
	// Body is the event or message as the consumer got it.
	Body json.RawMessage `json:"body,omitempty"`
}

// ParkedEvents reads one page of the parked events, in the order they were
// parked; walk them all with All. A server without a parking place answers
// ErrNotFound.
func (c *Client) ParkedEvents(ctx context.Context, p Page) (List[ParkedEvent], error) {
	var out List[ParkedEvent]
	_, err := c.do(ctx, http.MethodGet, "/admin/parked"+p.query(url.Values{}), nil, &out)
	return out, err
}

// RemoveParkedEvent dismisses a parked event once its cause is dealt with;
// ErrNotFound when id is not parked.
func (c *Client) RemoveParkedEvent(ctx context.Context, id uint64) error {
	_, err := c.do(ctx, http.MethodDelete, "/admin/parked/"+strconv.FormatUint(id, 10), nil, nil)
	return err
}
