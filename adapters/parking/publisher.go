package parking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/conveyor/conveyor/projections"
)

// Metadata keys the publisher reads from a poisoned message, besides
// middleware.ReasonForPoisonedKey (the error).
const (
	// MetadataSequence is the log position of the message (decimal).
	MetadataSequence = "Conveyor-Sequence"
	// MetadataName is the event's type, as watermill's cqrs marshaler names it.
	MetadataName = "name"
	// MetadataAggregate and MetadataAggregateID name the event's aggregate,
	// as the event store's headers do.
	MetadataAggregate   = "Conveyor-Aggregate"
	MetadataAggregateID = "Conveyor-Aggregate-Id"
)

// publishTimeout bounds parking one message. Parking does not end with the
// handler's context: the message is set aside even when its handler timed
// out.
const publishTimeout = 10 * time.Second

// Publisher parks, for consumer, each message published to it: the
// publisher to give watermill's middleware.PoisonQueue, so that a message
// the handler fails on is kept and the subscription goes on. The topic is
// not used: the consumer names where entries go.
func (s *Store) Publisher(consumer string) message.Publisher {
	return &publisher{store: s, consumer: consumer}
}

type publisher struct {
	store    *Store
	consumer string
}

// Publish parks each message: Error from its metadata
// middleware.ReasonForPoisonedKey, Body its payload, Sequence, Type and
// aggregate from the metadata keys above when they are set. The same
// message (by UUID, or by log position) published again within the
// duplicate window is kept once.
func (p *publisher) Publish(_ string, msgs ...*message.Message) error {
	var errs []error
	for _, msg := range msgs {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(msg.Context()), publishTimeout)
		e, msgID := p.entry(msg)
		err := p.store.park(ctx, e, msgID)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("message %s: %w", msg.UUID, err))
		}
	}
	return errors.Join(errs...)
}

// entry is what msg becomes, and the id that deduplicates it. Metadata it
// cannot read is noted in the Error: parking never fails for the message's
// sake, or the message would be retried without end.
func (p *publisher) entry(msg *message.Message) (projections.ParkedEvent, string) {
	e := projections.ParkedEvent{
		Consumer: p.consumer, Type: msg.Metadata.Get(MetadataName), Error: msg.Metadata.Get(middleware.ReasonForPoisonedKey),
		Aggregate: msg.Metadata.Get(MetadataAggregate), AggregateID: msg.Metadata.Get(MetadataAggregateID), Body: json.RawMessage(msg.Payload),
	}
	if e.Error == "" {
		e.Error = "set aside without a reason"
	}
	msgID := ""
	if msg.UUID != "" {
		msgID = p.consumer + "/" + msg.UUID
	}
	if seq := msg.Metadata.Get(MetadataSequence); seq != "" {
		n, err := strconv.ParseUint(seq, 10, 64)
		if err != nil || n == 0 {
			e.Error += fmt.Sprintf(" (metadata %s %q is not a log position)", MetadataSequence, seq)
		} else {
			// The id Park gives the same event of the same consumer.
			e.Sequence, msgID = n, p.consumer+"/"+strconv.FormatUint(n, 10)
		}
	}
	return e, msgID
}

// Close implements message.Publisher; the store owns no connection.
func (p *publisher) Close() error { return nil }
