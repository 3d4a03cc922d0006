package domain

import (
	"encoding/json"
	"fmt"
)

// Condition events.
const (
	TypeStepSkipped     = "StepSkipped.v1"
	TypeConditionFailed = "ConditionFailed.v1"
)

// StepSkipped: a step's `when` condition was false when its needs were met,
// so it did not run; the steps that need it are skipped too.
type StepSkipped struct {
	Meta
	Step   string `json:"step"`
	Reason string `json:"reason"`
}

// ConditionFailed: a step's `when` condition could not be evaluated (it
// names something that is not there, say), so the step fails rather than
// being skipped without anyone noticing.
type ConditionFailed struct {
	Meta
	Step   string `json:"step"`
	Reason string `json:"reason"`
}

func init() {
	register(TypeStepSkipped, func() Event { return &StepSkipped{} })
	register(TypeConditionFailed, func() Event { return &ConditionFailed{} })
}

// Conditions evaluates a step's `when` expression against what the step may
// see (see ConditionInput). The language is the adapter's (CEL); the domain
// only records the outcome.
type Conditions interface {
	// Check compiles expr, so that a pipeline with a broken condition is
	// refused when it is saved.
	Check(expr string) error
	// Eval evaluates expr; it must be deterministic.
	Eval(expr string, in ConditionInput) (bool, error)
	// CheckValue compiles expr, an expression of any type (a ${{ }} in a
	// step's `with`), so that a broken one is refused when it is saved.
	CheckValue(expr string) error
	// Value evaluates expr, over the same input as a condition, and gives
	// its value as JSON; it must be deterministic.
	Value(expr string, in ConditionInput) (json.RawMessage, error)
}

// ConditionInput is what a `when` expression sees: `resource` (name,
// resource, pipeline, metadata, spec), `pipeline` (name, metadata), `run`
// (id, trigger) and `results` (for each step the step needs, directly or
// through others: success, message, data), and, for an instance of a matrix
// step, `matrix` (its values by key).
type ConditionInput map[string]any

// runInput is what every expression over the run sees: resource,
// pipeline and run.
func (r Run) runInput() ConditionInput {
	var spec any = map[string]any{}
	_ = json.Unmarshal(r.Resource.Spec, &spec)
	return ConditionInput{
		"resource": map[string]any{"name": r.Resource.Name, "resource": r.Resource.Type, "pipeline": r.Resource.Pipeline,
			"metadata": stringMap(r.Resource.Metadata), "spec": spec},
		"pipeline": map[string]any{"name": r.Pipeline.Name, "metadata": stringMap(r.Pipeline.Metadata)},
		"run":      map[string]any{"id": r.ID, "trigger": r.Trigger},
	}
}

// conditionInput is what step i's condition sees.
func (r Run) conditionInput(i int) ConditionInput {
	results := map[string]any{}
	for j := range r.Pipeline.ancestors(i) {
		s := r.Steps[j]
		if s.Result == nil {
			continue
		}
		var data any = map[string]any{}
		if len(s.Result.Data) > 0 {
			_ = json.Unmarshal(s.Result.Data, &data)
		}
		results[s.ID] = map[string]any{"success": s.Result.Success, "message": s.Result.Message, "data": data}
	}
	in := r.runInput()
	in["results"] = results
	if m := r.matrixValues(i); m != nil {
		in["matrix"] = m
	}
	return in
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// CheckConditions compiles every step's condition, and the expressions of
// its `with`, with conds.
func CheckConditions(p Pipeline, conds Conditions) ValidationErrors {
	problems := checkGroupExpression(p, conds)
	for i, s := range p.Steps {
		problems = append(problems, checkWith(fmt.Sprintf("steps[%d].with", i), s.With, conds)...)
		if s.When == "" {
			continue
		}
		if conds == nil {
			problems = append(problems, Invalid(fmt.Sprintf("steps[%d].when", i), "conditions are not available on this server"))
			continue
		}
		if err := conds.Check(s.When); err != nil {
			problems = append(problems, Invalid(fmt.Sprintf("steps[%d].when", i), "is not a valid CEL expression: "+err.Error()))
		}
	}
	return problems
}

// UseConditions gives the aggregate the evaluator of `when` conditions for
// its decisions. Without one, a step with a condition fails when reached.
func (a *RunAggregate) UseConditions(c Conditions) { a.conditions = c }

// condition decides whether ready step i runs: "" when it does (no
// condition, or a true one), else why not. A condition that cannot be
// evaluated fails the step (failed is true) rather than skipping it.
func (a *RunAggregate) condition(i int) (reason string, failed bool) {
	r := a.state
	if len(r.Pipeline.Steps) != len(r.Steps) || r.Pipeline.Steps[i].When == "" {
		return "", false
	}
	expr := r.Pipeline.Steps[i].When
	if a.conditions == nil {
		return "its condition cannot be evaluated: conditions are not available on this server", true
	}
	ok, err := a.conditions.Eval(expr, r.conditionInput(i))
	if err != nil {
		return fmt.Sprintf("its condition %q could not be evaluated: %v", expr, err), true
	}
	if !ok {
		return fmt.Sprintf("its condition is false: %s", expr), false
	}
	return "", false
}
