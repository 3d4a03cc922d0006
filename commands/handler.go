package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// Handler runs the write use cases. Build it with New; it is safe for
// concurrent use as long as its ports are. A command only appends: its
// answer means the events are durable in the log, and nothing after the
// append can turn it into an error. The read models follow from the log.
type Handler struct {
	store      EventStore
	schemas    SchemaValidator
	resources  ResourceIndex
	now        Clock
	newID      IDs
	conditions domain.Conditions
	vault      SecretVault
	triggers   domain.TriggerExpressions
	schedules  domain.Schedules
	// secretValues reads the secrets deliveries are signed with.
	secretValues SecretValues
	// offLoopback: the API listens off loopback; insecure triggers are
	// refused.
	offLoopback bool
	// heads is the store when it offers HeadReader (nil otherwise).
	heads     HeadReader
	defs      checked[definitionState]
	pipelines checked[pipelineState]
}

// Deps are the ports a Handler needs; every field is required but
// Conditions: without it, pipelines with `when` conditions or `with`
// expressions are refused.
type Deps struct {
	Store      EventStore
	Schemas    SchemaValidator
	Resources  ResourceIndex
	Now        Clock
	NewID      IDs
	Conditions domain.Conditions
	// Secrets keeps secret values; without it, secret commands fail.
	Secrets SecretVault
	// Triggers evaluates triggers' expressions; without it, triggers are
	// refused.
	Triggers domain.TriggerExpressions
	// Schedules reads schedule triggers' cron expressions; without it,
	// schedule triggers are refused.
	Schedules domain.Schedules
	// SecretValues reads secret values, for checking webhook deliveries;
	// without it, only insecure triggers take deliveries.
	SecretValues SecretValues
	// OffLoopback says the API listens on an address that is not loopback:
	// triggers without a secret are then refused.
	OffLoopback bool
}

// Validate reports every missing port.
func (d Deps) Validate() error {
	var errs []error
	if d.Store == nil {
		errs = append(errs, errors.New("commands: Store is required"))
	}
	if d.Schemas == nil {
		errs = append(errs, errors.New("commands: Schemas is required"))
	}
	if d.Resources == nil {
		errs = append(errs, errors.New("commands: Resources is required"))
	}
	if d.Now == nil {
		errs = append(errs, errors.New("commands: Now is required"))
	}
	if d.NewID == nil {
		errs = append(errs, errors.New("commands: NewID is required"))
	}
	return errors.Join(errs...)
}

// New returns a Handler over deps.
func New(deps Deps) (*Handler, error) {
	if err := deps.Validate(); err != nil {
		return nil, err
	}
	heads, _ := deps.Store.(HeadReader)
	return &Handler{store: deps.Store, schemas: deps.Schemas, resources: deps.Resources, now: deps.Now, newID: deps.NewID,
		conditions: deps.Conditions, vault: deps.Secrets, heads: heads, triggers: deps.Triggers, schedules: deps.Schedules, secretValues: deps.SecretValues,
		offLoopback: deps.OffLoopback}, nil
}

// aggregate is what every domain aggregate offers to be loaded and saved.
type aggregate interface {
	Apply(domain.Event)
	Changes() []domain.Event
}

// loaded is where an aggregate was loaded: the log position of its last
// event, which guards the append.
type loaded struct {
	lastSeq uint64
}

// load rebuilds agg from its stream.
func (h *Handler) load(ctx context.Context, kind, id string, agg aggregate) (loaded, error) {
	events, err := h.store.Load(ctx, kind, id)
	if err != nil {
		return loaded{}, fmt.Errorf("load %s %s: %w", kind, id, err)
	}
	var l loaded
	for _, e := range events {
		agg.Apply(e)
		l.lastSeq = e.EventMeta().Sequence
	}
	return l, nil
}

// save appends the events agg recorded as one message, guarded by the
// sequence it was loaded at, and notes the position in ctx (see
// RecordWrites). A lost race is domain.ErrConflict and nothing is written.
// A repeat of an append already stored is a success.
func (h *Handler) save(ctx context.Context, l loaded, agg aggregate) error {
	_, err := h.append(ctx, l.lastSeq, agg.Changes())
	if errors.Is(err, domain.ErrAlreadyStored) {
		return nil
	}
	return err
}

// append appends events and notes their position in ctx; a repeat of an
// append already stored notes that one's position and returns an error
// matching domain.ErrAlreadyStored.
func (h *Handler) append(ctx context.Context, expected uint64, events []domain.Event) (uint64, error) {
	if len(events) == 0 {
		return expected, nil
	}
	stampActor(ctx, events)
	seq, err := h.store.Append(ctx, events, expected)
	if err != nil && !errors.Is(err, domain.ErrAlreadyStored) {
		return 0, err
	}
	if w, ok := ctx.Value(writesKey{}).(*Writes); ok {
		w.Note(seq)
	}
	return seq, err
}

// cause describes the next event of a command: a fresh event id, the current
// time, and the given correlation and causation ids.
func (h *Handler) cause(correlationID, causationID string) domain.Cause {
	if causationID == "" {
		causationID = h.newID()
	}
	return domain.Cause{EventID: h.newID(), Time: h.now(), CorrelationID: correlationID, CausationID: causationID}
}

// checkNames checks pairs of field and name against the name rule and
// returns every problem at once.
func checkNames(fieldsAndNames ...string) error {
	var problems domain.ValidationErrors
	for i := 0; i+1 < len(fieldsAndNames); i += 2 {
		if err := domain.CheckName(fieldsAndNames[i], fieldsAndNames[i+1]); err != nil {
			problems = append(problems, err.(*domain.ValidationError))
		}
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}
