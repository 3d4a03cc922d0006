package eventbus

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/conveyor/conveyor/domain"
)

// wireNames maps each event's Go type to its stable wire name.
var wireNames = func() map[reflect.Type]string {
	names := map[reflect.Type]string{}
	for _, t := range domain.EventTypes() {
		e, _ := domain.NewEvent(t)
		names[reflect.TypeOf(e)] = t
	}
	return names
}()

// marshaler is the cqrs marshaler of domain events: the body is the event's
// JSON, the "name" metadata its wire name.
type marshaler struct{}

var _ cqrs.CommandEventMarshaler = marshaler{}

func (marshaler) Marshal(v any) (*message.Message, error) {
	e, ok := v.(domain.Event)
	if !ok {
		return nil, fmt.Errorf("eventbus: %T is not a domain event", v)
	}
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	m := message.NewMessage(e.EventMeta().ID, body)
	m.Metadata.Set("name", marshaler{}.Name(v))
	return m, nil
}

func (marshaler) Unmarshal(msg *message.Message, v any) error {
	if err := json.Unmarshal(msg.Payload, v); err != nil {
		return fmt.Errorf("eventbus: decode %s: %w", msg.Metadata.Get("name"), err)
	}
	if e, ok := v.(domain.Event); ok {
		e.EventMeta().Sequence, _ = strconv.ParseUint(msg.Metadata.Get(metaSequence), 10, 64)
	}
	return nil
}

func (marshaler) Name(v any) string { return wireNames[reflect.TypeOf(v)] }

func (marshaler) NameFromMessage(msg *message.Message) string { return msg.Metadata.Get("name") }

// typed routes one event type to a subscription's handler.
type typed struct {
	wireName string
	handle   Handler
}

func (t typed) NewEvent() any {
	e, _ := domain.NewEvent(t.wireName)
	return e
}

func (t typed) Handle(ctx context.Context, e any) error { return t.handle(ctx, e.(domain.Event)) }

// handlers are one group handler per registered event type.
func handlers(h Handler) []cqrs.GroupEventHandler {
	out := make([]cqrs.GroupEventHandler, 0, len(wireNames))
	for _, name := range domain.EventTypes() {
		out = append(out, typed{wireName: name, handle: h})
	}
	return out
}
