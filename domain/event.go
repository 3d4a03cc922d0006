package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Aggregate kinds. With the aggregate id they name an event stream.
const (
	AggregateDefinition = "definition"
	AggregateResource   = "resource"
	AggregatePipeline   = "pipeline"
	AggregateRun        = "run"
)

// Meta is the envelope every event carries. Aggregate and AggregateID name
// the stream the event belongs to; Version is the aggregate's version after
// the event (1 for the first event of a stream); Sequence is the position in
// the whole log, set by the event store when the event is read back.
type Meta struct {
	ID            string    `json:"id"`
	Type          string    `json:"type"`
	Aggregate     string    `json:"aggregate"`
	AggregateID   string    `json:"aggregateId"`
	Version       uint64    `json:"aggregateVersion"`
	Time          time.Time `json:"time"`
	CorrelationID string    `json:"correlationId,omitempty"`
	CausationID   string    `json:"causationId,omitempty"`
	Sequence      uint64    `json:"sequence,omitempty"`
	// Actor is who caused the event; see Actor.
	Actor *Actor `json:"actor,omitempty"`
}

// EventMeta returns the envelope. Every event type embeds Meta and so
// satisfies Event.
func (m *Meta) EventMeta() *Meta { return m }

// Event is a fact recorded by an aggregate.
type Event interface {
	EventMeta() *Meta
}

// Cause is what the caller knows about why an event happens: the id the new
// event gets, the time, the correlation id (the Run ID where there is one)
// and the id of the event or command that caused it.
type Cause struct {
	EventID       string
	Time          time.Time
	CorrelationID string
	CausationID   string
}

func (c Cause) meta(typ, aggregate, id string, version uint64) Meta {
	return Meta{
		ID: c.EventID, Type: typ, Aggregate: aggregate, AggregateID: id, Version: version,
		Time: c.Time.UTC(), CorrelationID: c.CorrelationID, CausationID: c.CausationID,
	}
}

var eventTypes = map[string]func() Event{}

func register(typ string, newEvent func() Event) {
	if _, dup := eventTypes[typ]; dup {
		panic("domain: event type registered twice: " + typ)
	}
	eventTypes[typ] = newEvent
}

// EventTypes lists every registered wire name.
func EventTypes() []string {
	names := make([]string, 0, len(eventTypes))
	for name := range eventTypes {
		names = append(names, name)
	}
	return names
}

// NewEvent returns an empty event of the given wire type, ready to be
// unmarshalled into.
func NewEvent(typ string) (Event, error) {
	newEvent, ok := eventTypes[typ]
	if !ok {
		return nil, fmt.Errorf("unknown event type %q", typ)
	}
	return newEvent(), nil
}

// Unmarshal decodes JSON into a value as encoding/json's Unmarshal does;
// DecodeEventsAtWith takes another that reads this package's JSON the same
// way, faster.
type Unmarshal func(data []byte, v any) error

// DecodeEvent decodes the JSON form of any registered event.
func DecodeEvent(data []byte) (Event, error) { return decodeEvent(data, json.Unmarshal) }

func decodeEvent(data []byte, unmarshal Unmarshal) (Event, error) {
	typ, ok := peekType(data)
	if !ok {
		var head struct {
			Type string `json:"type"`
		}
		if err := unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("decode event: %w", err)
		}
		typ = head.Type
	}
	e, err := NewEvent(typ)
	if err != nil {
		return nil, err
	}
	if err := unmarshal(data, e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	return e, nil
}

// peekType reads the type of an event as this package encodes it, the
// envelope first: {"id":"…","type":"…",…. Anything else (another field
// order, an escape in either string) is left to a full decode, so that
// reading the type never costs a pass over the whole event when it need not.
func peekType(data []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(data, []byte(`{"id":"`))
	if !ok {
		return "", false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return "", false
	}
	if rest, ok = bytes.CutPrefix(rest[end+1:], []byte(`,"type":"`)); !ok {
		return "", false
	}
	end = bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return "", false
	}
	return string(rest[:end]), true
}

// envelopePrefix starts the stored form of a command that recorded several
// events: {"events":[…]}. A command that recorded one event is stored as
// that event alone.
const envelopePrefix = `{"events":[`

// EncodeEvents is the stored form of the events one command recorded: the
// event itself when there is one, else an envelope holding them in order, so
// that they are appended as one message, all or none.
func EncodeEvents(events []Event) ([]byte, error) {
	if len(events) == 1 {
		return json.Marshal(events[0])
	}
	return json.Marshal(struct {
		Events []Event `json:"events"`
	}{events})
}

// IsEnvelope reports whether data is the stored form of several events.
func IsEnvelope(data []byte) bool { return bytes.HasPrefix(data, []byte(envelopePrefix)) }

// SplitEvents returns the JSON of each event in a stored message, in order.
func SplitEvents(data []byte) ([]json.RawMessage, error) { return splitEvents(data, json.Unmarshal) }

func splitEvents(data []byte, unmarshal Unmarshal) ([]json.RawMessage, error) {
	if !IsEnvelope(data) {
		return []json.RawMessage{data}, nil
	}
	var env struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	if len(env.Events) == 0 {
		return nil, fmt.Errorf("decode envelope: no events")
	}
	return env.Events, nil
}

// DecodeEventsAt decodes a stored message as DecodeEvents does and gives
// every event the message's log position seq.
func DecodeEventsAt(data []byte, seq uint64) ([]Event, error) {
	return DecodeEventsAtWith(data, seq, json.Unmarshal)
}

// DecodeEventsAtWith is DecodeEventsAt with unmarshal in place of
// encoding/json's Unmarshal.
func DecodeEventsAtWith(data []byte, seq uint64, unmarshal Unmarshal) ([]Event, error) {
	events, err := decodeEvents(data, unmarshal)
	for _, e := range events {
		e.EventMeta().Sequence = seq
	}
	return events, err
}

// DecodeEvents decodes a stored message: one event, or the events of an
// envelope in order.
func DecodeEvents(data []byte) ([]Event, error) { return decodeEvents(data, json.Unmarshal) }

func decodeEvents(data []byte, unmarshal Unmarshal) ([]Event, error) {
	raws, err := splitEvents(data, unmarshal)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(raws))
	for i, raw := range raws {
		if out[i], err = decodeEvent(raw, unmarshal); err != nil {
			return nil, err
		}
	}
	return out, nil
}
