package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// SecretValues reads secret values: what webhook deliveries are checked
// against.
type SecretValues interface {
	// Get is the value of name; an error matching domain.ErrNotFound when
	// there is none.
	Get(ctx context.Context, name string) ([]byte, error)
}

// BadDelivery is a delivery that cannot be read: a body that is not JSON,
// a missing delivery id. Nothing is written.
type BadDelivery struct{ Reason string }

func (e *BadDelivery) Error() string { return e.Reason }

// Outcomes of a delivery.
const (
	DeliveryFired   = "fired"
	DeliveryIgnored = "ignored"
	DeliveryPing    = "ping"
)

// ReceiveDelivery is one webhook request to the trigger named Trigger.
type ReceiveDelivery struct {
	Trigger  string
	Delivery domain.Delivery
}

// DeliveryOutcome is what a delivery did: Outcome is DeliveryFired (it
// wrote Resource, whose change starts the run RunID when it names a
// pipeline), DeliveryIgnored (Reason says why: nothing was written) or
// DeliveryPing. Delivery is the delivery's id ("" when its header is
// missing, which only a fired delivery needs).
type DeliveryOutcome struct {
	Outcome  string
	Reason   string
	Event    string
	Delivery string
	Resource domain.Resource
	RunID    string
}

// ReceiveDelivery checks the delivery's signature against the trigger's
// secret (domain.ErrUnauthenticated, also for a trigger that does not
// exist, so that strangers learn nothing), reads its event, and writes the
// trigger's resource when the trigger takes the event and its condition
// holds: first TriggerFired on the delivery's own stream, then the resource
// (created, or replaced when it exists: a new version and a new run),
// caused by it. A delivery id seen before writes nothing new and answers as
// the first delivery did; one whose resource write was lost (a crash
// between the two appends) has it written now.
func (h *Handler) ReceiveDelivery(ctx context.Context, c ReceiveDelivery) (DeliveryOutcome, error) {
	t, err := h.authenticDelivery(ctx, c)
	if err != nil {
		return DeliveryOutcome{}, err
	}
	out, in, body, err := h.evaluate(t, c.Delivery, "")
	if err != nil {
		return out, err
	}
	if out.Outcome != "" { // a ping, or not taken: nothing is written
		out.Delivery = t.DeliveryIDOf(c.Delivery)
		return out, nil
	}
	if out.Delivery = t.DeliveryIDOf(c.Delivery); out.Delivery == "" {
		return DeliveryOutcome{}, &BadDelivery{Reason: "the delivery has no id: the header " + t.DeliveryHeaderOf() + " is missing"}
	}
	commit, ref := domain.CommitAndRef(body)
	return h.fireOnce(ctx, t, domain.TriggerFired{Trigger: t.Name, Source: t.Source, Event: out.Event, Delivery: out.Delivery,
		Commit: commit, Ref: ref}, in)
}

// evaluate reads delivery d as trigger t does: its body, its event (event
// when given, else the one its headers name) and the trigger's condition.
// An outcome is set when the delivery writes nothing (a ping, an event the
// trigger does not take, a false condition); otherwise the trigger fires
// on in, the input of its expressions, and body is the decoded body.
func (h *Handler) evaluate(t domain.Trigger, d domain.Delivery, event string) (DeliveryOutcome, domain.HookInput, any, error) {
	var body any
	if err := json.Unmarshal(d.Body, &body); err != nil {
		return DeliveryOutcome{}, nil, nil, &BadDelivery{Reason: "the body is not JSON: " + err.Error()}
	}
	if event == "" {
		event = t.EventOf(d, body)
	}
	out := DeliveryOutcome{Event: event}
	if event == domain.EventPing {
		out.Outcome, out.Reason = DeliveryPing, "pong: the trigger is reachable and the signature matches"
		return out, nil, body, nil
	}
	if !t.Takes(event) {
		out.Outcome, out.Reason = DeliveryIgnored, fmt.Sprintf("trigger %q does not take %q events (it takes %v)", t.Name, event, t.Events)
		return out, nil, body, nil
	}
	in := t.InputOf(d, body, event)
	if ok, err := h.holds(t, in); err != nil {
		return DeliveryOutcome{}, nil, nil, err
	} else if !ok {
		out.Outcome, out.Reason = DeliveryIgnored, "its condition is false: "+t.When
		return out, nil, body, nil
	}
	return out, in, body, nil
}

// fireOnce writes what the delivery f names (its trigger, event, delivery
// id, commit and ref) fires: TriggerFired, with the resource t's
// expressions make of in, then the resource. A delivery id fired before
// writes nothing new and answers as it did then.
func (h *Handler) fireOnce(ctx context.Context, t domain.Trigger, f domain.TriggerFired, in domain.HookInput) (DeliveryOutcome, error) {
	key := domain.DeliveryKey(t.Name, f.Delivery)
	var agg domain.DeliveryAggregate
	l, err := h.load(ctx, domain.AggregateDelivery, key, &agg)
	if err != nil {
		return DeliveryOutcome{}, err
	}
	if fired, ok := agg.Fired(); ok {
		return h.completeDelivery(ctx, fired)
	}
	if f.Resource, f.Report, err = h.firing(ctx, t, in); err != nil {
		return DeliveryOutcome{}, err
	}
	cause := domain.Cause{EventID: domain.FiredEventID(t.Name, f.Delivery), Time: h.now(), CorrelationID: h.newID(),
		CausationID: f.Delivery}
	if err := agg.Fire(f, cause); err != nil {
		return DeliveryOutcome{}, err
	}
	fired, err := h.fire(ctx, key, l, &agg)
	if err != nil {
		return DeliveryOutcome{}, err
	}
	return h.completeDelivery(ctx, fired)
}

// firing is what t fires on in: the resource its expressions make, checked
// against its definition, and where its run is reported (nil: nowhere).
func (h *Handler) firing(ctx context.Context, t domain.Trigger, in domain.HookInput) (domain.Resource, *domain.StatusTarget, error) {
	r, err := t.ResourceOf(h.triggers, in)
	if err != nil {
		return r, nil, err
	}
	if err := h.checkResource(ctx, r); err != nil {
		return r, nil, err
	}
	report, err := t.StatusTargetOf(h.triggers, in)
	return r, report, err
}

// fire appends the TriggerFired agg recorded and returns it; when the same
// delivery, sent again at the same time, was appended first, it returns
// that one, so that both answer alike.
func (h *Handler) fire(ctx context.Context, key string, l loaded, agg *domain.DeliveryAggregate) (*domain.TriggerFired, error) {
	_, err := h.append(ctx, l.lastSeq, agg.Changes())
	if err == nil {
		f, _ := agg.Fired()
		return f, nil
	}
	if !errors.Is(err, domain.ErrConflict) && !errors.Is(err, domain.ErrAlreadyStored) {
		return nil, err
	}
	var first domain.DeliveryAggregate
	if _, err := h.load(ctx, domain.AggregateDelivery, key, &first); err != nil {
		return nil, err
	}
	f, ok := first.Fired()
	if !ok {
		return nil, fmt.Errorf("delivery %s: %w", key, domain.ErrConflict)
	}
	return f, nil
}

// authenticDelivery is the trigger of c once the delivery's signature
// matches its secret.
func (h *Handler) authenticDelivery(ctx context.Context, c ReceiveDelivery) (domain.Trigger, error) {
	if !domain.ValidName(c.Trigger) || h.triggers == nil {
		return domain.Trigger{}, domain.ErrUnauthenticated
	}
	var agg domain.TriggerAggregate
	if _, err := h.load(ctx, domain.AggregateTrigger, c.Trigger, &agg); err != nil {
		return domain.Trigger{}, err
	}
	t := agg.State()
	if !agg.Exists() || t.Source == domain.SourceSchedule { // nothing is delivered to a schedule
		return domain.Trigger{}, domain.ErrUnauthenticated
	}
	var secret []byte
	if !t.Insecure {
		if h.secretValues == nil {
			return domain.Trigger{}, domain.ErrUnauthenticated
		}
		var err error
		if secret, err = h.secretValues.Get(ctx, t.Secret); errors.Is(err, domain.ErrNotFound) {
			return domain.Trigger{}, domain.ErrUnauthenticated
		} else if err != nil {
			return domain.Trigger{}, err
		}
	}
	return t, t.Authenticate(c.Delivery, secret)
}

// completeDelivery writes the resource fired says unless the log holds it
// already (the resource event whose id derives from fired's), and answers
// what the delivery did.
func (h *Handler) completeDelivery(ctx context.Context, fired *domain.TriggerFired) (DeliveryOutcome, error) {
	key, eventID := fired.Resource.Key(), domain.ResourceEventID(fired.ID)
	events, err := h.store.Load(ctx, domain.AggregateResource, key)
	if err != nil {
		return DeliveryOutcome{}, fmt.Errorf("load resource %s: %w", key, err)
	}
	var agg domain.ResourceAggregate
	var l loaded
	var written *domain.Resource
	for _, e := range events {
		agg.Apply(e)
		l.lastSeq = e.EventMeta().Sequence
		if e.EventMeta().ID == eventID {
			state := agg.State()
			written = &state
		}
	}
	if written == nil {
		cause := domain.Cause{EventID: eventID, Time: h.now(), CorrelationID: fired.CorrelationID, CausationID: fired.ID}
		if agg.Exists() {
			err = agg.Replace(fired.Resource, 0, cause)
		} else {
			err = agg.Create(fired.Resource, h.newID(), cause)
		}
		if err == nil {
			err = h.save(ctx, l, &agg)
		}
		if err != nil {
			return DeliveryOutcome{}, err
		}
		state := agg.State()
		written = &state
	}
	return DeliveryOutcome{Outcome: DeliveryFired, Event: fired.Event, Delivery: fired.Delivery, Resource: *written,
		RunID: fired.CorrelationID}, nil
}
