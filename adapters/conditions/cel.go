package conditions

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/cel-go/cel"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
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
// domain.ConditionInput: resource, pipeline, run, results and, for an
// instance of a matrix step, matrix.
func New() (*CEL, error) { return newCEL(nil, "resource", "pipeline", "run", "results", "matrix") }

// newCEL returns an evaluator whose expressions see the variables named,
// with the libraries of opts.
func newCEL(opts []cel.EnvOption, variables ...string) (*CEL, error) {
	for _, v := range variables {
		opts = append(opts, cel.Variable(v, cel.DynType))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, err
	}
	return &CEL{env: env, programs: map[string]cel.Program{}}, nil
}

// Check compiles expr and checks that it can be a boolean.
func (c *CEL) Check(expr string) error {
	_, err := c.program(expr, true)
	return err
}

// Eval evaluates expr against in.
func (c *CEL) Eval(expr string, in domain.ConditionInput) (bool, error) {
	return c.condition(expr, map[string]any(in))
}

// CheckValue compiles expr, an expression of any type: a ${{ }} of a
// step's `with`.
func (c *CEL) CheckValue(expr string) error {
	_, err := c.program(expr, false)
	return err
}

// Value evaluates expr against in and gives its value as JSON (CEL's JSON
// of it: a number is a double, an int beyond 2^53 a string).
func (c *CEL) Value(expr string, in domain.ConditionInput) (json.RawMessage, error) {
	return c.value(expr, map[string]any(in))
}

// condition evaluates the boolean expression expr against in.
func (c *CEL) condition(expr string, in map[string]any) (bool, error) {
	prg, err := c.program(expr, true)
	if err != nil {
		return false, err
	}
	out, _, err := prg.Eval(in)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("it gave %v (%s), not true or false", out.Value(), out.Type().TypeName())
	}
	return b, nil
}

// jsonValue is the type CEL converts a value to for its JSON.
var jsonValue = reflect.TypeOf(&structpb.Value{})

// value evaluates expr, of any type, against in and gives its value as
// JSON.
func (c *CEL) value(expr string, in map[string]any) (json.RawMessage, error) {
	prg, err := c.program(expr, false)
	if err != nil {
		return nil, err
	}
	out, _, err := prg.Eval(in)
	if err != nil {
		return nil, err
	}
	native, err := out.ConvertToNative(jsonValue)
	if err != nil {
		return nil, err
	}
	return protojson.Marshal(native.(*structpb.Value))
}

// program compiles expr, once while the cache keeps it; wantBool refuses
// an expression that cannot give true or false.
func (c *CEL) program(expr string, wantBool bool) (cel.Program, error) {
	key := "value:" + expr
	if wantBool {
		key = "bool:" + expr
	}
	c.mu.Lock()
	prg, ok := c.programs[key]
	c.mu.Unlock()
	if ok {
		return prg, nil
	}
	ast, issues := c.env.Compile(expr)
	if issues.Err() != nil {
		return nil, issues.Err()
	}
	if t := ast.OutputType(); wantBool && t != cel.BoolType && t != cel.DynType {
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
	c.programs[key] = prg
	c.mu.Unlock()
	return prg, nil
}
