package domain

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Pipeline orders drivers over one resource type. Metadata is shared by
// every step; Version is set by the server ("1" on create, +1 per update).
//
// Timeout, when set, bounds a whole run: a run still going after it fails.
type Pipeline struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Version     string            `json:"version"`
	Resource    string            `json:"resource"`
	Steps       []Step            `json:"steps"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Timeout     string            `json:"timeout,omitempty"`
	// Concurrency, when set, bounds the runs of the pipeline that go on at
	// once in a group (see Concurrency).
	Concurrency *Concurrency `json:"concurrency,omitempty"`
}

// Step runs one driver. ID is unique within its pipeline; Name is free text.
// Needs names the steps that must succeed before this one runs: nil means
// the step before it, empty means none (see NeedsOf). Timeout bounds each
// attempt (a Go duration string); Retry says when to try again.
//
// Type "approval" (StepTypeApproval) makes a step that runs no driver and
// waits for a person's decision.
type Step struct {
	ID      string       `json:"id"`
	Name    string       `json:"name,omitempty"`
	Type    string       `json:"type,omitempty"`
	Driver  string       `json:"driver,omitempty"`
	Needs   []string     `json:"needs,omitempty"`
	Timeout string       `json:"timeout,omitempty"`
	Retry   *RetryPolicy `json:"retry,omitempty"`
	// When is a CEL condition: the step runs only if it is true when its
	// needs are met, and is skipped otherwise.
	When string `json:"when,omitempty"`
	// Secrets names the secrets the step's driver gets while it runs it.
	Secrets []string `json:"secrets,omitempty"`
	// RunsOn names the labels a process of the step's driver must have to
	// take the step (at most MaxRunsOn); absent: any process of it.
	RunsOn []string `json:"runsOn,omitempty"`
	// With is the step's parameters, a JSON object handed to its driver
	// with the work, evaluated at dispatch: its strings may hold ${{ EXPR }}
	// CEL expressions over what a condition sees. At most MaxWithBytes.
	With json.RawMessage `json:"with,omitempty"`
	// Matrix makes the step run once per combination of its values, each
	// an instance of its own (see Matrix and Pipeline.Expanded). FailFast
	// (default true) skips the instances not yet started once one has
	// failed; MaxParallel (0: no bound) bounds the instances dispatched at
	// once.
	Matrix      Matrix `json:"matrix,omitempty"`
	FailFast    *bool  `json:"failFast,omitempty"`
	MaxParallel int    `json:"maxParallel,omitempty"`
	// Instance is set on the steps of a run's expanded pipeline only: the
	// matrix step this step is an instance of, and its values.
	Instance *MatrixInstance `json:"instance,omitempty"`
	// Concurrency, when set, bounds the steps of this id (of every run of
	// every pipeline whose step names the same group) that go on at once:
	// the step takes a place in its group before it is dispatched and
	// holds it until it ends, its retries included (see Concurrency).
	Concurrency *Concurrency `json:"concurrency,omitempty"`
}

// failFast reports whether a failed instance of the step skips the
// instances not yet started: unless failFast is false.
func (s Step) failFast() bool { return s.FailFast == nil || *s.FailFast }

// MarshalJSON keeps an empty Needs, which means "needs no step", apart from
// an absent one, which means "needs the step before".
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	wire := struct {
		plain
		Needs *[]string `json:"needs,omitempty"`
	}{plain: plain(s)}
	if s.Needs != nil {
		wire.Needs = &s.Needs
	}
	return json.Marshal(wire)
}

// Pipeline events.
const (
	TypePipelineCreated = "PipelineCreated.v1"
	TypePipelineUpdated = "PipelineUpdated.v1"
	TypePipelineDeleted = "PipelineDeleted.v1"
)

// PipelineCreated: a pipeline was defined.
type PipelineCreated struct {
	Meta
	Pipeline Pipeline `json:"pipeline"`
}

// PipelineUpdated: a pipeline's steps, resource or metadata were replaced.
// Runs already started keep the pipeline as it was.
type PipelineUpdated struct {
	Meta
	Pipeline Pipeline `json:"pipeline"`
}

// PipelineDeleted: a pipeline was removed.
type PipelineDeleted struct {
	Meta
	Name string `json:"name"`
}

func init() {
	register(TypePipelineCreated, func() Event { return &PipelineCreated{} })
	register(TypePipelineUpdated, func() Event { return &PipelineUpdated{} })
	register(TypePipelineDeleted, func() Event { return &PipelineDeleted{} })
}

// CheckPipeline checks the pipeline's names and steps: at least one step,
// unique step ids, valid driver names, and needs that name steps of the
// pipeline without a cycle.
func CheckPipeline(p Pipeline) error {
	var problems ValidationErrors
	add := func(err error) {
		if err != nil {
			problems = append(problems, err.(*ValidationError))
		}
	}
	add(CheckName("name", p.Name))
	add(CheckName("resource", p.Resource))
	if len(p.Steps) == 0 {
		add(Invalid("steps", "must hold at least one step"))
	}
	seen := make(map[string]int, len(p.Steps))
	for i, s := range p.Steps {
		field := fmt.Sprintf("steps[%d]", i)
		add(CheckName(field+".id", s.ID))
		switch s.Type {
		case "":
			add(CheckName(field+".driver", s.Driver))
		case StepTypeApproval:
			if s.Driver != "" {
				add(Invalid(field+".driver", "must be absent: a step of type approval runs no driver"))
			}
			if s.Retry != nil {
				add(Invalid(field+".retry", "must be absent: a step of type approval is decided once"))
			}
			if len(s.With) > 0 {
				add(Invalid(field+".with", "must be absent: a step of type approval runs no driver to hand it to"))
			}
		default:
			add(Invalid(field+".type", fmt.Sprintf("must be absent (a driver's step) or %q, not %q", StepTypeApproval, s.Type)))
		}
		if first, dup := seen[s.ID]; dup && s.ID != "" {
			add(Invalid(field+".id", fmt.Sprintf("duplicates steps[%d].id %q: step ids must be unique", first, s.ID)))
		} else {
			seen[s.ID] = i
		}
	}
	problems = append(problems, checkTimeouts(p)...)
	problems = append(problems, checkSecrets(p)...)
	problems = append(problems, checkRunsOn(p)...)
	problems = append(problems, checkMatrices(p)...)
	problems = append(problems, checkConcurrency(p)...)
	if len(problems) == 0 {
		problems = checkNeeds(p)
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// PipelineAggregate is the Pipeline aggregate.
type PipelineAggregate struct {
	state   Pipeline
	exists  bool
	version uint64
	changes []Event
}

// Version is the aggregate version: the number of events applied.
func (a *PipelineAggregate) Version() uint64 { return a.version }

// Exists reports whether the pipeline exists.
func (a *PipelineAggregate) Exists() bool { return a.exists }

// State is the current pipeline.
func (a *PipelineAggregate) State() Pipeline { return a.state }

// Changes are the events recorded since the aggregate was loaded.
func (a *PipelineAggregate) Changes() []Event { return a.changes }

// Apply folds one event into the aggregate.
func (a *PipelineAggregate) Apply(e Event) {
	switch e := e.(type) {
	case *PipelineCreated:
		a.state, a.exists = e.Pipeline, true
	case *PipelineUpdated:
		a.state = e.Pipeline
	case *PipelineDeleted:
		a.state, a.exists = Pipeline{}, false
	}
	a.version = e.EventMeta().Version
}

func (a *PipelineAggregate) record(e Event) {
	a.Apply(e)
	a.changes = append(a.changes, e)
}

// Create defines a new pipeline. The caller checks that its resource type is
// defined.
func (a *PipelineAggregate) Create(p Pipeline, c Cause) error {
	if err := CheckPipeline(p); err != nil {
		return err
	}
	if a.exists {
		return alreadyExists("pipeline", p.Name)
	}
	p.Version = "1"
	a.record(&PipelineCreated{Meta: c.meta(TypePipelineCreated, AggregatePipeline, p.Name, a.version+1), Pipeline: p})
	return nil
}

// Update replaces the pipeline and counts its version up. A replace that
// changes nothing records nothing.
func (a *PipelineAggregate) Update(p Pipeline, c Cause) error {
	if err := CheckPipeline(p); err != nil {
		return err
	}
	if !a.exists {
		return notFound("pipeline", p.Name)
	}
	if samePipeline(a.state, p) {
		return nil
	}
	current, _ := strconv.Atoi(a.state.Version)
	p.Version = strconv.Itoa(current + 1)
	a.record(&PipelineUpdated{Meta: c.meta(TypePipelineUpdated, AggregatePipeline, p.Name, a.version+1), Pipeline: p})
	return nil
}

// Delete removes the pipeline. Runs already started finish with the pipeline
// they started with.
func (a *PipelineAggregate) Delete(name string, c Cause) error {
	if !a.exists {
		return notFound("pipeline", name)
	}
	a.record(&PipelineDeleted{Meta: c.meta(TypePipelineDeleted, AggregatePipeline, name, a.version+1), Name: name})
	return nil
}

// WithStepIDs gives each step without an id one, as the original Conveyor
// CI accepts such steps: its driver's name, with a suffix from -2 on when
// that id is taken (compile, compile-2). Ids given are kept as they are.
func (p Pipeline) WithStepIDs() Pipeline {
	taken := make(map[string]bool, len(p.Steps))
	for _, s := range p.Steps {
		taken[s.ID] = true
	}
	steps := append([]Step(nil), p.Steps...)
	for i, s := range steps {
		if s.ID != "" || s.Driver == "" {
			continue
		}
		id := s.Driver
		for n := 2; taken[id]; n++ {
			id = fmt.Sprintf("%s-%d", s.Driver, n)
		}
		taken[id], steps[i].ID = true, id
	}
	p.Steps = steps
	return p
}
