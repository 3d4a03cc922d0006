package domain

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Concurrency bounds the runs of a pipeline that go on at once. Group is a
// CEL expression over what a condition sees at the start of a run (resource,
// pipeline, run), evaluated to a string when the run starts: the runs whose
// groups have the same name share Limit places (at least 1, 1 when absent).
// OnFull says what a run does when every place is taken: it waits in FIFO
// order (OnFullQueue, the default), cancels the oldest run of the group
// that holds a place and takes it (OnFullCancelRunning), or ends at once,
// cancelled with a reason that says it was skipped (OnFullSkip).
type Concurrency struct {
	Group  string `json:"group"`
	Limit  *int   `json:"limit,omitempty"`
	OnFull string `json:"onFull,omitempty"`
}

// What a run does when its concurrency group is full.
const (
	OnFullQueue         = "queue"
	OnFullCancelRunning = "cancel-running"
	OnFullSkip          = "skip"
)

// MaxGroupName bounds the name a group expression evaluates to.
const MaxGroupName = 256

// limit is c's limit, 1 when absent.
func (c Concurrency) limit() int {
	if c.Limit == nil {
		return 1
	}
	return *c.Limit
}

// onFull is c's OnFull, OnFullQueue when absent.
func (c Concurrency) onFull() string {
	if c.OnFull == "" {
		return OnFullQueue
	}
	return c.OnFull
}

// checkConcurrency checks the concurrency of the pipeline and of its steps,
// but their group expressions, which CheckConditions compiles.
func checkConcurrency(p Pipeline) ValidationErrors {
	problems := checkConcurrencyOf("concurrency", p.Concurrency)
	for i, s := range p.Steps {
		problems = append(problems, checkConcurrencyOf(fmt.Sprintf("steps[%d].concurrency", i), s.Concurrency)...)
	}
	return problems
}

// checkConcurrencyOf checks one concurrency, at field.
func checkConcurrencyOf(field string, c *Concurrency) ValidationErrors {
	if c == nil {
		return nil
	}
	var problems ValidationErrors
	if c.Group == "" {
		problems = append(problems, Invalid(field+".group", "is required: a CEL expression that names the group, such as '\"deploy-\" + resource.spec.env'"))
	}
	if c.Limit != nil && *c.Limit < 1 {
		problems = append(problems, Invalid(field+".limit", fmt.Sprintf("must be at least 1, not %d", *c.Limit)))
	}
	switch c.OnFull {
	case "", OnFullQueue, OnFullCancelRunning, OnFullSkip:
	default:
		problems = append(problems, Invalid(field+".onFull", fmt.Sprintf("must be %q, %q or %q, not %q", OnFullQueue, OnFullCancelRunning, OnFullSkip, c.OnFull)))
	}
	return problems
}

// checkGroupExpression compiles the group expressions of the pipeline and
// of its steps.
func checkGroupExpression(p Pipeline, conds Conditions) ValidationErrors {
	problems := checkGroupExpressionOf("concurrency.group", p.Concurrency, conds)
	for i, s := range p.Steps {
		problems = append(problems, checkGroupExpressionOf(fmt.Sprintf("steps[%d].concurrency.group", i), s.Concurrency, conds)...)
	}
	return problems
}

func checkGroupExpressionOf(field string, c *Concurrency, conds Conditions) ValidationErrors {
	if c == nil || c.Group == "" {
		return nil
	}
	if conds == nil {
		return ValidationErrors{Invalid(field, "expressions are not available on this server")}
	}
	if err := conds.CheckValue(c.Group); err != nil {
		return ValidationErrors{Invalid(field, "is not a valid CEL expression: "+err.Error())}
	}
	return nil
}

// GroupName evaluates the run's group expression with conds, over the
// resource, pipeline and run (no step's results): the name of
// its concurrency group, a non-empty string of at most MaxGroupName bytes.
func (r Run) GroupName(c Concurrency, conds Conditions) (string, error) {
	return groupName(c, conds, r.runInput())
}

// groupName evaluates c's group expression with conds over in.
func groupName(c Concurrency, conds Conditions, in ConditionInput) (string, error) {
	if conds == nil {
		return "", fmt.Errorf("expressions are not available on this server")
	}
	raw, err := conds.Value(c.Group, in)
	if err != nil {
		return "", err
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return "", fmt.Errorf("the group expression gave %s, not a string", raw)
	}
	switch {
	case name == "":
		return "", fmt.Errorf("the group expression gave an empty string")
	case len(name) > MaxGroupName:
		return "", fmt.Errorf("the group expression gave a name of %d bytes, more than %d", len(name), MaxGroupName)
	}
	return name, nil
}

// RunConcurrency is a run's place in its concurrency group: the group's
// name, limit and what the run does when it is full, from when the run
// started. Order is the log position of the resource change that started
// the run (0: unknown): the group's queue keeps runs in this order, so runs
// whose changes the engine takes up side by side still wait first in,
// first out. Position is filled in when a queued run is read, never
// stored: 1 for the next run to start.
type RunConcurrency struct {
	Group    string `json:"group"`
	Limit    int    `json:"limit"`
	OnFull   string `json:"onFull"`
	Order    uint64 `json:"order,omitempty"`
	Position int    `json:"queuedPosition,omitempty"`
}

// Run events of concurrency groups.
const (
	TypeRunQueued   = "RunQueued.v1"
	TypeRunAdmitted = "RunAdmitted.v1"
)

// RunQueued: the run's pipeline bounds its concurrency, so the run waits
// for a place in its group before its first step; its status is queued.
type RunQueued struct {
	Meta
	Concurrency RunConcurrency `json:"concurrency"`
}

// RunAdmitted: the run's group gave it a place; it runs. Its timeout, if
// its pipeline has one, counts from here.
type RunAdmitted struct {
	Meta
	Group string `json:"group"`
}

func init() {
	register(TypeRunQueued, func() Event { return &RunQueued{} })
	register(TypeRunAdmitted, func() Event { return &RunAdmitted{} })
}

// RunStatusQueued is the status of a run that waits for a place in its
// concurrency group. It has not ended.
const RunStatusQueued = "queued"

// applyConcurrency folds the run's concurrency events into it.
func (r *Run) applyConcurrency(e Event, at time.Time) {
	switch e := e.(type) {
	case *RunQueued:
		c := e.Concurrency
		r.Status, r.Concurrency, r.Deadline = RunStatusQueued, &c, nil
		r.Message = fmt.Sprintf("waits for a place in concurrency group %q (limit %d)", c.Group, c.Limit)
	case *RunAdmitted:
		r.Status, r.Message = RunStatusRunning, ""
		if d := duration(r.Pipeline.Timeout); d > 0 {
			deadline := at.Add(d)
			r.Deadline = &deadline
		}
	}
}

// queue makes a run whose pipeline bounds its concurrency wait for a place
// in its group (RunQueued), or fails it when its group expression cannot
// be evaluated. It records nothing for a pipeline without concurrency.
func (a *RunAggregate) queue(c Cause) {
	conc := a.state.Pipeline.Concurrency
	if conc == nil {
		return
	}
	// The event beside the one c caused first gets an id of its own,
	// derived, so that a repeat of the decision derives the same.
	c.EventID = uuid.NewSHA1(groupIDs, []byte(c.EventID+"/queued")).String()
	name, err := a.state.GroupName(*conc, a.conditions)
	if err != nil {
		a.record(&RunFailed{Meta: a.meta(TypeRunFailed, c), Message: "the concurrency group could not be evaluated: " + err.Error()})
		return
	}
	a.record(&RunQueued{Meta: a.meta(TypeRunQueued, c),
		Concurrency: RunConcurrency{Group: name, Limit: conc.limit(), OnFull: conc.onFull(), Order: a.order}})
}

// QueueInOrder tells the aggregate, before Start, the log position of the
// resource change that starts the run: a run that waits in a concurrency
// group waits in that order.
func (a *RunAggregate) QueueInOrder(position uint64) { a.order = position }

// Admit records that the run's group gave the queued run a place. A run
// that is not queued records nothing.
func (a *RunAggregate) Admit(c Cause) {
	if !a.exists || a.state.Status != RunStatusQueued || a.state.Concurrency == nil {
		return
	}
	a.record(&RunAdmitted{Meta: a.meta(TypeRunAdmitted, c), Group: a.state.Concurrency.Group})
}
