package schema

import (
	"errors"
	"math"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// maxValueDepth is how deep the values of a spec nest: a request body
// nests at most 64 levels (api.MaxBodyDepth), and the spec is inside it.
const maxValueDepth = 64

// errSelfReference: a schema applies itself to the same value again
// without descending into it. The library stops such a loop with an error
// each time it is met; counting its paths has no useful bound.
var errSelfReference = errors.New("refers back to itself without descending into the value (a $ref, combinator or condition loop); validation could only fail there")

// worstCase measures, before any spec is seen, what validating a spec
// against a schema can cost. References and combinators share subschemas,
// so a schema of a few dozen objects can apply one of them billions of
// times: each level of {"anyOf": [{"$ref": "#/$defs/d"}, {"$ref":
// "#/$defs/d"}]} doubles the work.
type worstCase struct {
	a     anchors
	order []*jsonschema.Schema // every schema reached, each before those it applies in place
}

// newWorstCase orders the schemas reached from root so that counts can flow
// through the schemas applied in place in one pass.
func newWorstCase(a anchors, root *jsonschema.Schema) (*worstCase, error) {
	w := &worstCase{a: a}
	const (
		open = 1
		done = 2
	)
	state := map[*jsonschema.Schema]int{}
	var post []*jsonschema.Schema
	var visit func(*jsonschema.Schema) error
	visit = func(s *jsonschema.Schema) error {
		switch state[s] {
		case open:
			return errSelfReference
		case done:
			return nil
		}
		state[s] = open
		for _, c := range a.inPlace(s) {
			if err := visit(c); err != nil {
				return err
			}
		}
		state[s] = done
		post = append(post, s)
		return nil
	}
	for queue := []*jsonschema.Schema{root}; len(queue) > 0; queue = queue[1:] {
		s := queue[0]
		if state[s] == done {
			continue
		}
		if err := visit(s); err != nil {
			return nil, err
		}
		// Walking in place reached more schemas; what they apply below
		// is measured from them in turn.
		for _, t := range post[len(w.order):] {
			queue = append(queue, inside(t)...)
		}
		w.order = post
	}
	for i, j := 0, len(post)-1; i < j; i, j = i+1, j-1 {
		post[i], post[j] = post[j], post[i]
	}
	w.order = post
	return w, nil
}

// perLevel is the most work validation can take at one level of a spec's
// nesting, each level counted as if every property and item schema of the
// level above applied: the bound a schema is refused over. It stops
// counting once past limit.
func (w *worstCase) perLevel(root *jsonschema.Schema, limit uint64) uint64 {
	entered := map[*jsonschema.Schema]uint64{root: 1}
	var worst uint64
	for depth := 0; depth <= maxValueDepth && len(entered) > 0; depth++ {
		// Counts flow in order: a schema has all its counts before it
		// passes them on to the schemas it applies in place.
		applied := entered
		var work uint64
		next := map[*jsonschema.Schema]uint64{}
		for _, s := range w.order {
			n := applied[s]
			if n == 0 {
				continue
			}
			work = add(work, mul(n, uint64(weight(s))))
			if s.Bool == nil {
				for _, c := range w.a.inPlace(s) {
					applied[c] = add(applied[c], n)
				}
			}
			for _, c := range inside(s) {
				next[c] = add(next[c], n)
			}
		}
		worst = max(worst, work)
		if worst > limit {
			return worst
		}
		entered = next
	}
	return worst
}

// add and mul saturate instead of wrapping: a count past the limit only
// needs to stay past it.
func add(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func mul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}
