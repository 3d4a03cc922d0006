package conditions

import (
	"encoding/json"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/ext"
)

// Hooks evaluates triggers' expressions: `when` conditions and the
// values of the resource a delivery writes. Safe for concurrent use.
type Hooks struct {
	cel *CEL
}

var _ domain.TriggerExpressions = (*Hooks)(nil)

// NewHooks returns an evaluator whose expressions see the variables of
// domain.HookInput: headers, body and event, and a schedule's tick,
// tick_unix and tick_stamp (domain.TickInput), with CEL's string functions
// (replace, split, substring, lowerAscii, …) to shape names from refs.
func NewHooks() (*Hooks, error) {
	c, err := newCEL([]cel.EnvOption{ext.Strings()}, "headers", "body", "event", "tick", "tick_unix", "tick_stamp")
	if err != nil {
		return nil, err
	}
	return &Hooks{cel: c}, nil
}

// CheckCondition compiles expr and checks that it can be a boolean.
func (h *Hooks) CheckCondition(expr string) error {
	_, err := h.cel.program(expr, true)
	return err
}

// CheckValue compiles expr.
func (h *Hooks) CheckValue(expr string) error {
	_, err := h.cel.program(expr, false)
	return err
}

// Condition evaluates the condition expr against in.
func (h *Hooks) Condition(expr string, in domain.HookInput) (bool, error) {
	return h.cel.condition(expr, map[string]any(in))
}

// Value evaluates expr against in and gives its value as JSON.
func (h *Hooks) Value(expr string, in domain.HookInput) (json.RawMessage, error) {
	return h.cel.value(expr, map[string]any(in))
}
