package conditions

import (
	"fmt"
	"sync"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/cel-go/cel"
)

// CostLimit bounds the work of one evaluation, so that a hostile or careless
// expression (a comprehension over a large spec, say) cannot hold the engine.
const CostLimit = 1_000_000

// MaxPrograms bounds the cache of compiled expressions.
const MaxPrograms = 4096

// CEL compiles and evaluates conditions. Safe for concurrent use.
type CEL struct {
	env *cel.Env

	mu       sync.Mutex
	programs map[string]cel.Program
}

var _ domain.Conditions = (*CEL)(nil)

// New returns an evaluator whose expressions see the variables of
// domain.ConditionInput: resource, pipeline, run and results.
func New() (*CEL, error) {
	env, err := cel.NewEnv(
		cel.Variable("resource", cel.DynType),
		cel.Variable("pipeline", cel.DynType),
		cel.Variable("run", cel.DynType),
		cel.Variable("results", cel.DynType),
	)
	if err != nil {
		return nil, err
	}
	return &CEL{env: env, programs: map[string]cel.Program{}}, nil
}

// Check compiles expr and checks that it can be a boolean.
func (c *CEL) Check(expr string) error {
	_, err := c.program(expr)
	return err
}

// Eval evaluates expr against in.
func (c *CEL) Eval(expr string, in domain.ConditionInput) (bool, error) {
	prg, err := c.program(expr)
	if err != nil {
		return false, err
	}
	out, _, err := prg.Eval(map[string]any(in))
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("it gave %v (%s), not true or false", out.Value(), out.Type().TypeName())
	}
	return b, nil
}

func (c *CEL) program(expr string) (cel.Program, error) {
	c.mu.Lock()
	prg, ok := c.programs[expr]
	c.mu.Unlock()
	if ok {
		return prg, nil
	}
	ast, issues := c.env.Compile(expr)
	if issues.Err() != nil {
		return nil, issues.Err()
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, fmt.Errorf("must be true or false, but gives %s", t)
	}
	prg, err := c.env.Program(ast, cel.CostLimit(CostLimit))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.programs) >= MaxPrograms {
		clear(c.programs)
	}
	c.programs[expr] = prg
	c.mu.Unlock()
	return prg, nil
}
