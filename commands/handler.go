package commands

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/conveyor/conveyor/domain"
)

// Handler runs the write use cases. Build it with New; it is safe for
// concurrent use as long as its ports are.
type Handler struct {
	store     EventStore
	projector Projector
	// background projects the engine's own events without waiting.
	background Projector
	schemas    SchemaValidator
	resources  ResourceIndex
	now        Clock
	newID      IDs
	// gate lets Pause hold back writes for a moment.
	gate sync.RWMutex
}

// Deps are the ports a Handler needs; every field is required.
type Deps struct {
	Store     EventStore
	Projector Projector
	// Background, when set, projects the events of the engine's commands
	// (StartRun, AdvanceRun, RecordDriverResult) without waiting: nobody
	// reads those writes back at once. Otherwise Projector does.
	Background Projector
	Schemas    SchemaValidator
	Resources  ResourceIndex
	Now        Clock
	NewID      IDs
}

// Validate reports every missing port.
func (d Deps) Validate() error {
	var errs []error
	if d.Store == nil {
		errs = append(errs, errors.New("commands: Store is required"))
	}
	if d.Projector == nil {
		errs = append(errs, errors.New("commands: Projector is required"))
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
	h := &Handler{store: deps.Store, projector: deps.Projector, background: deps.Background, schemas: deps.Schemas,
		resources: deps.Resources, now: deps.Now, newID: deps.NewID}
	if h.background == nil {
		h.background = h.projector
	}
	return h, nil
}

// aggregate is what every domain aggregate offers to be loaded and saved.
type aggregate interface {
	Apply(domain.Event)
	Changes() []domain.Event
}

// loaded is an aggregate with the events it was rebuilt from.
type loaded struct {
	history []domain.Event
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
	l.history = events
	return l, nil
}

// save appends the events agg recorded, guarded by the sequence it was
// loaded at, and waits until the read model shows them. A lost race is
// domain.ErrConflict and nothing is written.
func (h *Handler) save(ctx context.Context, l loaded, agg aggregate) error {
	return h.saveWith(ctx, h.projector, l, agg)
}

// saveWith saves and projects with projector.
func (h *Handler) saveWith(ctx context.Context, projector Projector, l loaded, agg aggregate) error {
	h.gate.RLock()
	defer h.gate.RUnlock()
	expected := l.lastSeq
	for _, e := range agg.Changes() {
		seq, err := h.store.Append(ctx, e, expected)
		if err != nil {
			return err
		}
		expected = seq
	}
	events := append(l.history[:len(l.history):len(l.history)], agg.Changes()...)
	if err := projector.Project(ctx, events...); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	return nil
}

// Pause waits for the writes in flight, holds back new ones until resume is
// called, and returns resume. A rebuild of the read models pauses writes
// while it switches generations, so that no answer is sent from a
// generation about to be left behind.
func (h *Handler) Pause() (resume func()) {
	h.gate.Lock()
	return h.gate.Unlock
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
