package domain

import (
	"encoding/json"
	"fmt"
	"slices"
)

// TriggerExpressions evaluates a trigger's CEL expressions against a
// delivery (see HookInput). The language is the adapter's; the domain only
// uses the values.
type TriggerExpressions interface {
	// CheckCondition compiles a `when` expression, which must give true or
	// false; CheckValue compiles an expression giving any value.
	CheckCondition(expr string) error
	CheckValue(expr string) error
	// Condition and Value evaluate; they must be deterministic. Value
	// gives the result as JSON.
	Condition(expr string, in HookInput) (bool, error)
	Value(expr string, in HookInput) (json.RawMessage, error)
}

// HookInput is what a trigger's expressions see: `headers` (each header's
// first value by its lower-case name), `body` (the delivery's JSON) and
// `event` (the trigger's name for the event: push, tag, pull_request, …).
type HookInput map[string]any

// CheckTriggerExpressions compiles the trigger's when, resource name and
// spec expressions with exprs; each problem names the expression and why.
func CheckTriggerExpressions(t Trigger, exprs TriggerExpressions) ValidationErrors {
	var problems ValidationErrors
	check := func(field, expr string, compile func(string) error) {
		if exprs == nil {
			problems = append(problems, Invalid(field, "expressions are not available on this server"))
		} else if err := compile(expr); err != nil {
			problems = append(problems, Invalid(field, fmt.Sprintf("%q is not a valid CEL expression: %v", expr, err)))
		}
	}
	if t.When != "" {
		check("when", t.When, conditionOf(exprs))
	}
	if t.Resource.Name != "" {
		check("resource.name", t.Resource.Name, valueOf(exprs))
	}
	fields := make([]string, 0, len(t.Resource.Spec))
	for f := range t.Resource.Spec {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		check("resource.spec."+f, t.Resource.Spec[f], valueOf(exprs))
	}
	if r := t.Report; r != nil {
		for _, f := range [][2]string{{"report.repository", r.Repository}, {"report.sha", r.SHA}} {
			if f[1] != "" {
				check(f[0], f[1], valueOf(exprs))
			}
		}
	}
	return problems
}

func conditionOf(exprs TriggerExpressions) func(string) error {
	if exprs == nil {
		return nil
	}
	return exprs.CheckCondition
}

func valueOf(exprs TriggerExpressions) func(string) error {
	if exprs == nil {
		return nil
	}
	return exprs.CheckValue
}

// ResourceOf evaluates the trigger's resource expressions against in: the
// resource the delivery writes. An expression that fails, a name that is not
// a string, or a spec too large, is a validation error naming the field.
func (t Trigger) ResourceOf(exprs TriggerExpressions, in HookInput) (Resource, error) {
	r := Resource{Type: t.Resource.Type, Pipeline: t.Pipeline, Metadata: map[string]string{}}
	raw, err := exprs.Value(t.Resource.Name, in)
	if err != nil {
		return Resource{}, Invalid("resource.name", fmt.Sprintf("%q could not be evaluated: %v", t.Resource.Name, err))
	}
	if err := json.Unmarshal(raw, &r.Name); err != nil {
		return Resource{}, Invalid("resource.name", fmt.Sprintf("%q gave %s, not a string", t.Resource.Name, raw))
	}
	spec := make(map[string]json.RawMessage, len(t.Resource.Spec))
	for field, expr := range t.Resource.Spec {
		if spec[field], err = exprs.Value(expr, in); err != nil {
			return Resource{}, Invalid("resource.spec."+field, fmt.Sprintf("%q could not be evaluated: %v", expr, err))
		}
	}
	if r.Spec, err = json.Marshal(spec); err != nil {
		return Resource{}, err
	}
	return r, CheckResource(r)
}
