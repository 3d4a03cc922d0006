package conditions

import (
	"encoding/json"
	"reflect"

	"github.com/conveyor/conveyor/domain"
	"github.com/google/cel-go/cel"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// CheckValue compiles expr, an expression of any type: a ${{ }} of a
// step's `with`.
func (c *CEL) CheckValue(expr string) error {
	_, err := c.valueProgram(expr)
	return err
}

// Value evaluates expr against in and gives its value as JSON (CEL's JSON
// of it: a number is a double, an int beyond 2^53 a string).
func (c *CEL) Value(expr string, in domain.ConditionInput) (json.RawMessage, error) {
	prg, err := c.valueProgram(expr)
	if err != nil {
		return nil, err
	}
	out, _, err := prg.Eval(map[string]any(in))
	if err != nil {
		return nil, err
	}
	native, err := out.ConvertToNative(reflect.TypeFor[*structpb.Value]())
	if err != nil {
		return nil, err
	}
	return protojson.Marshal(native.(*structpb.Value))
}

// valueProgram compiles expr, of any type. It is compiled at each use: an
// expression of a `with` is evaluated once per dispatch of its step.
func (c *CEL) valueProgram(expr string) (cel.Program, error) {
	ast, issues := c.env.Compile(expr)
	if issues.Err() != nil {
		return nil, issues.Err()
	}
	return c.env.Program(ast, cel.CostLimit(CostLimit))
}
