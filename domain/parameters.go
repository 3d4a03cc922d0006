package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// MaxWithBytes bounds a step's `with`, as JSON: as written (a larger one is
// refused when the pipeline is saved) and as evaluated at dispatch (a larger
// one fails the step). It is recorded in every dispatch of the step.
const MaxWithBytes = 16 << 10

// TypeParametersFailed names ParametersFailed.
const TypeParametersFailed = "ParametersFailed.v1"

// ParametersFailed: an expression in a step's `with` could not be evaluated
// when the step was to be dispatched, so the step fails without running.
// Like a failed condition it is not retried: it would fail the same way.
type ParametersFailed struct {
	Meta
	Step   string `json:"step"`
	Reason string `json:"reason"`
}

func init() {
	register(TypeParametersFailed, func() Event { return &ParametersFailed{} })
}

// A part of a string value of `with`: literal text, or the CEL expression
// of a ${{ EXPR }}.
type part struct {
	text string
	expr bool
}

// parts splits s at its ${{ EXPR }} expressions. An expression ends at the
// first }} after its ${{, so it cannot hold }} itself.
func parts(s string) ([]part, error) {
	var out []part
	for {
		open := strings.Index(s, "${{")
		if open < 0 {
			if s != "" {
				out = append(out, part{text: s})
			}
			return out, nil
		}
		end := strings.Index(s[open+3:], "}}")
		if end < 0 {
			return nil, fmt.Errorf("an expression opened with ${{ is not closed with }}")
		}
		expr := strings.TrimSpace(s[open+3 : open+3+end])
		if expr == "" {
			return nil, fmt.Errorf("${{ }} holds no expression")
		}
		if open > 0 {
			out = append(out, part{text: s[:open]})
		}
		out = append(out, part{text: expr, expr: true})
		s = s[open+3+end+2:]
	}
}

// decodeWith reads a step's `with`, keeping numbers as they were written.
func decodeWith(with json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(with))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, fmt.Errorf("must be a JSON object")
	}
	return m, nil
}

// eachString calls f on every string value in v, at its path (with.a.b,
// with.list[0]), in a stable order, and puts what f returns in its place.
func eachString(v any, path string, f func(path, s string) (any, error)) (any, error) {
	switch v := v.(type) {
	case string:
		return f(path, v)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			e, err := eachString(v[k], path+"."+k, f)
			if err != nil {
				return nil, err
			}
			v[k] = e
		}
	case []any:
		for i := range v {
			e, err := eachString(v[i], fmt.Sprintf("%s[%d]", path, i), f)
			if err != nil {
				return nil, err
			}
			v[i] = e
		}
	}
	return v, nil
}

// checkWith checks step i's `with` when the pipeline is saved: a JSON
// object of at most MaxWithBytes whose ${{ }} are closed, and, with conds,
// whose expressions compile.
func checkWith(field string, with json.RawMessage, conds Conditions) ValidationErrors {
	if len(with) == 0 {
		return nil
	}
	if err := checkSize(field, len(with), MaxWithBytes); err != nil {
		return ValidationErrors{err.(*ValidationError)}
	}
	m, err := decodeWith(with)
	if err != nil {
		return ValidationErrors{Invalid(field, err.Error())}
	}
	var problems ValidationErrors
	_, _ = eachString(m, field, func(path, s string) (any, error) {
		ps, err := parts(s)
		if err != nil {
			problems = append(problems, Invalid(path, err.Error()))
			return s, nil
		}
		for _, p := range ps {
			switch {
			case !p.expr:
			case conds == nil:
				problems = append(problems, Invalid(path, "expressions are not available on this server"))
			default:
				if err := conds.CheckValue(p.text); err != nil {
					problems = append(problems, Invalid(path, fmt.Sprintf("${{ %s }} is not a valid CEL expression: %v", p.text, err)))
				}
			}
		}
		return s, nil
	})
	return problems
}

// parameters is step i's `with` evaluated for its dispatch: each string
// that is one ${{ EXPR }} alone becomes the expression's value, of its JSON
// type; an expression within a longer string is written into it (a string
// as it is, any other value as its JSON). An expression that cannot be
// evaluated, or a result larger than MaxWithBytes, is an error saying which
// parameter and why.
func (r Run) parameters(i int, conds Conditions) (json.RawMessage, error) {
	if len(r.Pipeline.Steps) != len(r.Steps) || len(r.Pipeline.Steps[i].With) == 0 {
		return nil, nil
	}
	m, err := decodeWith(r.Pipeline.Steps[i].With)
	if err != nil {
		return nil, fmt.Errorf("its parameters: %v", err)
	}
	var in ConditionInput
	evaluated, err := eachString(m, "with", func(path, s string) (any, error) {
		ps, err := parts(s)
		if err != nil {
			return nil, fmt.Errorf("its parameter %s: %v", path, err)
		}
		values := make([]json.RawMessage, len(ps))
		for k, p := range ps {
			if !p.expr {
				continue
			}
			if conds == nil {
				return nil, fmt.Errorf("its parameter %s, ${{ %s }}, cannot be evaluated: expressions are not available on this server", path, p.text)
			}
			if in == nil {
				in = r.conditionInput(i)
			}
			v, err := conds.Value(p.text, in)
			if err != nil {
				return nil, fmt.Errorf("its parameter %s, ${{ %s }}, could not be evaluated: %v", path, p.text, err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, v); err != nil {
				return nil, fmt.Errorf("its parameter %s, ${{ %s }}, gave no JSON: %v", path, p.text, err)
			}
			values[k] = compact.Bytes()
		}
		if len(ps) == 1 && ps[0].expr {
			return values[0], nil
		}
		var b strings.Builder
		for k, p := range ps {
			var str string
			switch {
			case !p.expr:
				b.WriteString(p.text)
			case json.Unmarshal(values[k], &str) == nil:
				b.WriteString(str)
			default:
				b.Write(values[k])
			}
		}
		return b.String(), nil
	})
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(evaluated)
	if err != nil {
		return nil, fmt.Errorf("its parameters: %v", err)
	}
	if len(out) > MaxWithBytes {
		return nil, fmt.Errorf("its parameters are %d bytes once evaluated; at most %d bytes are accepted", len(out), MaxWithBytes)
	}
	return out, nil
}
