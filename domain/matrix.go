package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// A matrix step runs once per combination of its matrix's values: each
// combination is an instance, a step of the run of its own (its own id,
// status, attempts, log and result). The pipeline keeps the matrix as
// written; a run expands it when it starts (RunStarted holds the pipeline as
// written, Run.Pipeline the expanded graph), see Pipeline.Expanded.

// Matrix is a step's `matrix` as written: each key but include and exclude
// names a list of scalar values (strings, numbers, true or false); include is
// a list of extra combinations, exclude a list of partial combinations whose
// matches are dropped. Values are kept as JSON, exactly as written.
type Matrix map[string]json.RawMessage

// The keys of a Matrix that are not values.
const (
	MatrixInclude = "include"
	MatrixExclude = "exclude"
)

// MaxMatrixCombinations bounds the instances of one matrix step.
const MaxMatrixCombinations = 256

// MaxInstanceIDBytes bounds the id of a matrix step's instance.
const MaxInstanceIDBytes = 255

// MaxExpandedStepsBytes bounds a pipeline's steps once its matrices are
// expanded, as JSON: each run's read model holds them.
const MaxExpandedStepsBytes = 512 << 10

// MatrixKeyRule states the rule of a matrix key: an identifier a CEL
// expression can name as matrix.<key>.
const MatrixKeyRule = "must be 1 to 32 characters of lower-case letters, digits and '_', starting with a letter"

var matrixKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// MatrixInstance says which matrix step a step of a run is an instance of,
// and the instance's values (its combination), by key.
type MatrixInstance struct {
	Group  string                     `json:"group"`
	Values map[string]json.RawMessage `json:"values"`
}

// combination is one set of a matrix's values, by key, as compact JSON.
type combination map[string]json.RawMessage

// InstanceID is the id of the instance of step group with values:
// group[k1=v1,k2=v2], keys in order; a string value is written as it is, but
// for the bytes outside [A-Za-z0-9._-], written %XX, so that ',', '=', ']'
// and spaces cannot make two combinations alike; numbers and true/false as
// written.
func InstanceID(group string, values map[string]json.RawMessage) string {
	var b strings.Builder
	b.WriteString(group)
	b.WriteByte('[')
	for n, k := range sortedKeys(values) {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		var s string
		if json.Unmarshal(values[k], &s) != nil {
			b.Write(values[k])
			continue
		}
		for _, c := range []byte(s) {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
	}
	b.WriteByte(']')
	return b.String()
}

// scalar is v compacted when it is a JSON string, number or boolean.
func scalar(v json.RawMessage) (json.RawMessage, bool) {
	var compact bytes.Buffer
	if json.Compact(&compact, v) != nil || compact.Len() == 0 {
		return nil, false
	}
	switch c := compact.Bytes()[0]; {
	case c == '"', c == 't', c == 'f', c == '-', c >= '0' && c <= '9':
		return compact.Bytes(), true
	}
	return nil, false
}

// combinationOf reads one include or exclude entry: a non-empty object of
// matrix keys and scalar values.
func combinationOf(field string, raw json.RawMessage) (combination, ValidationErrors) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return nil, ValidationErrors{Invalid(field, "must be an object of at least one key and its value")}
	}
	var problems ValidationErrors
	c := combination{}
	for _, k := range sortedKeys(m) {
		if !matrixKeyPattern.MatchString(k) {
			problems = append(problems, Invalid(field+"."+k, "is not a matrix key: a key "+MatrixKeyRule))
			continue
		}
		v, ok := scalar(m[k])
		if !ok {
			problems = append(problems, Invalid(field+"."+k, "must be a string, a number, true or false"))
			continue
		}
		c[k] = v
	}
	return c, problems
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// list reads a JSON list, or is a problem at field.
func list(field string, raw json.RawMessage) ([]json.RawMessage, *ValidationError) {
	var l []json.RawMessage
	if err := json.Unmarshal(raw, &l); err != nil || l == nil {
		return nil, Invalid(field, "must be a list")
	}
	return l, nil
}

// matches reports whether c holds every value of part.
func (c combination) matches(part combination) bool {
	for k, v := range part {
		if w, ok := c[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// Combinations is the matrix's combinations in order, or the problems that
// make it refused, at field (steps[i].matrix): the product of its lists
// (keys in order, the first key slowest; values in the order written), less
// the combinations an exclude entry matches, then each include entry as a
// combination of its own. Refused: no key and no include, an empty list, a
// value that is not a scalar, a key that breaks MatrixKeyRule, an exclude
// entry that names a key the matrix has no list for or matches no
// combination, an include entry that repeats a combination, and more than
// MaxMatrixCombinations combinations.
func (m Matrix) Combinations(field string) ([]combination, ValidationErrors) {
	var problems ValidationErrors
	axes := map[string][]json.RawMessage{}
	for _, k := range sortedKeys(m) {
		if k == MatrixInclude || k == MatrixExclude {
			continue
		}
		if !matrixKeyPattern.MatchString(k) {
			problems = append(problems, Invalid(field+"."+k, "is not a matrix key: a key "+MatrixKeyRule))
			continue
		}
		values, err := list(field+"."+k, m[k])
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if len(values) == 0 {
			problems = append(problems, Invalid(field+"."+k, "must hold at least one value"))
			continue
		}
		seen := map[string]int{}
		for j, v := range values {
			at := fmt.Sprintf("%s.%s[%d]", field, k, j)
			c, ok := scalar(v)
			if !ok {
				problems = append(problems, Invalid(at, "must be a string, a number, true or false"))
				continue
			}
			if first, dup := seen[string(c)]; dup {
				problems = append(problems, Invalid(at, fmt.Sprintf("repeats %s[%d] (%s)", k, first, c)))
				continue
			}
			seen[string(c)] = j
			values[j] = c
		}
		axes[k] = values
	}
	var includes, excludes []combination
	for _, part := range []struct {
		key  string
		into *[]combination
	}{{MatrixInclude, &includes}, {MatrixExclude, &excludes}} {
		raw, ok := m[part.key]
		if !ok {
			continue
		}
		entries, err := list(field+"."+part.key, raw)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		for j, e := range entries {
			c, errs := combinationOf(fmt.Sprintf("%s.%s[%d]", field, part.key, j), e)
			problems = append(problems, errs...)
			*part.into = append(*part.into, c)
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if len(axes) == 0 && len(includes) == 0 {
		return nil, ValidationErrors{Invalid(field, "must name at least one key and its list of values, or include combinations")}
	}
	size := 1
	for _, values := range axes {
		size *= len(values)
		if size > MaxMatrixCombinations*MaxMatrixCombinations {
			return nil, ValidationErrors{Invalid(field, fmt.Sprintf("has more than %d combinations; at most %d are accepted", MaxMatrixCombinations*MaxMatrixCombinations, MaxMatrixCombinations))}
		}
	}
	var all []combination
	if len(axes) > 0 {
		all = []combination{{}}
		for _, k := range sortedKeys(axes) {
			next := make([]combination, 0, len(all)*len(axes[k]))
			for _, c := range all {
				for _, v := range axes[k] {
					d := maps.Clone(c)
					d[k] = v
					next = append(next, d)
				}
			}
			all = next
		}
	}
	product := all
	for j, ex := range excludes {
		at := fmt.Sprintf("%s.%s[%d]", field, MatrixExclude, j)
		if k := missingKey(ex, axes); k != "" {
			problems = append(problems, Invalid(at, fmt.Sprintf("names key %s, which the matrix has no list for", k)))
			continue
		}
		if !slices.ContainsFunc(product, func(c combination) bool { return c.matches(ex) }) {
			problems = append(problems, Invalid(at, "matches no combination of the matrix"))
			continue
		}
		all = slices.DeleteFunc(slices.Clone(all), func(c combination) bool { return c.matches(ex) })
	}
	if len(problems) > 0 {
		return nil, problems
	}
	ids := map[string]bool{}
	for _, c := range all {
		ids[InstanceID("", c)] = true
	}
	for j, in := range includes {
		id := InstanceID("", in)
		if ids[id] {
			problems = append(problems, Invalid(fmt.Sprintf("%s.%s[%d]", field, MatrixInclude, j), "repeats the combination "+id))
			continue
		}
		ids[id] = true
		all = append(all, in)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if len(all) == 0 {
		return nil, ValidationErrors{Invalid(field, "excludes every combination")}
	}
	if len(all) > MaxMatrixCombinations {
		return nil, ValidationErrors{Invalid(field, fmt.Sprintf("has %d combinations; at most %d are accepted", len(all), MaxMatrixCombinations))}
	}
	return all, nil
}

// missingKey is a key of part that axes has no list for, or "".
func missingKey(part combination, axes map[string][]json.RawMessage) string {
	for _, k := range sortedKeys(part) {
		if _, ok := axes[k]; !ok {
			return k
		}
	}
	return ""
}

// checkMatrices checks the matrix fields of p's steps: a matrix expands
// (Combinations), its instances' ids fit MaxInstanceIDBytes, failFast and
// maxParallel come with a matrix, and the steps once expanded fit
// MaxExpandedStepsBytes.
func checkMatrices(p Pipeline) ValidationErrors {
	var problems ValidationErrors
	hasMatrix := false
	for i, s := range p.Steps {
		field := fmt.Sprintf("steps[%d]", i)
		if s.Matrix == nil {
			if s.FailFast != nil {
				problems = append(problems, Invalid(field+".failFast", "must be absent: only a step with a matrix has instances to stop"))
			}
			if s.MaxParallel != 0 {
				problems = append(problems, Invalid(field+".maxParallel", "must be absent: only a step with a matrix has instances to run side by side"))
			}
			continue
		}
		hasMatrix = true
		if s.Type == StepTypeApproval {
			problems = append(problems, Invalid(field+".matrix", "must be absent: a step of type approval is decided once"))
			continue
		}
		if s.MaxParallel < 0 {
			problems = append(problems, Invalid(field+".maxParallel", fmt.Sprintf("must be 0 (no bound) or more, not %d", s.MaxParallel)))
		}
		all, errs := s.Matrix.Combinations(field + ".matrix")
		problems = append(problems, errs...)
		for _, c := range all {
			if id := InstanceID(s.ID, c); len(id) > MaxInstanceIDBytes {
				problems = append(problems, Invalid(field+".matrix", fmt.Sprintf("gives the instance id %.40s…, %d bytes; at most %d are accepted: use shorter keys or values", id, len(id), MaxInstanceIDBytes)))
				break
			}
		}
	}
	if !hasMatrix || len(problems) > 0 {
		return problems
	}
	if steps, err := json.Marshal(p.Expanded().Steps); err == nil && len(steps) > MaxExpandedStepsBytes {
		problems = append(problems, Invalid("steps", fmt.Sprintf("are %d bytes as JSON once each matrix is expanded into its instances; at most %d are accepted", len(steps), MaxExpandedStepsBytes)))
	}
	return problems
}

// HasMatrix reports whether a step of p has a matrix.
func (p Pipeline) HasMatrix() bool {
	return slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Matrix != nil })
}

// Expanded is p with each matrix step replaced, in its place, by its
// instances: copies of it, each with its own id (InstanceID), no matrix, and
// Instance naming the step and the combination. Every step of the result
// names its needs explicitly, with a matrix step's id replaced by the ids
// of all its instances, so the graph needs nothing else to be read. A
// pipeline without a matrix is returned as it is; a matrix that does not
// expand (CheckPipeline refuses it) stays one step.
func (p Pipeline) Expanded() Pipeline {
	if !p.HasMatrix() {
		return p
	}
	instances := map[string][]string{}
	var steps []Step
	written := make([][]string, 0, len(p.Steps))
	for i, s := range p.Steps {
		written = append(written, p.NeedsOf(i))
		if s.Matrix == nil {
			steps = append(steps, s)
			continue
		}
		all, errs := s.Matrix.Combinations("matrix")
		if len(errs) > 0 {
			steps = append(steps, s)
			continue
		}
		for _, c := range all {
			inst := s
			inst.ID, inst.Matrix = InstanceID(s.ID, c), nil
			inst.Instance = &MatrixInstance{Group: s.ID, Values: c}
			instances[s.ID] = append(instances[s.ID], inst.ID)
			steps = append(steps, inst)
		}
	}
	k := 0
	for i, s := range p.Steps {
		needs := []string{}
		for _, n := range written[i] {
			if ids, ok := instances[n]; ok {
				needs = append(needs, ids...)
			} else {
				needs = append(needs, n)
			}
		}
		count := 1
		if ids, ok := instances[s.ID]; ok {
			count = len(ids)
		}
		for range count {
			steps[k].Needs = needs
			k++
		}
	}
	p.Steps = steps
	return p
}

// failFast skips the instances not yet started of the matrix step that
// step i, which failed for good, is an instance of, unless its failFast is
// false.
func (r *Run) failFast(i int) {
	inst := r.Steps[i].Matrix
	if inst == nil || len(r.Pipeline.Steps) != len(r.Steps) || !r.Pipeline.Steps[i].failFast() {
		return
	}
	reason := fmt.Sprintf("instance %s of matrix step %s failed (failFast)", r.Steps[i].ID, inst.Group)
	for k := range r.Steps {
		if s := &r.Steps[k]; s.Matrix != nil && s.Matrix.Group == inst.Group && (s.Status == StepStatusPending || s.Status == StepStatusQueued) {
			s.Status, s.Reason, s.RetryAt = StepStatusSkipped, reason, nil
		}
	}
}

// withinMaxParallel is ready, the indexes of steps ready to run, less the
// instances of a matrix step that its maxParallel holds back: those past
// its bound, counting its instances dispatched already.
func (r Run) withinMaxParallel(ready []int) []int {
	if len(r.Pipeline.Steps) != len(r.Steps) {
		return ready
	}
	running := map[string]int{}
	for i, s := range r.Steps {
		if s.Matrix != nil && r.Pipeline.Steps[i].MaxParallel > 0 && s.Status == StepStatusDispatched {
			running[s.Matrix.Group]++
		}
	}
	out := ready[:0:0]
	for _, i := range ready {
		if s := r.Steps[i]; s.Matrix != nil {
			if limit := r.Pipeline.Steps[i].MaxParallel; limit > 0 {
				if running[s.Matrix.Group] >= limit {
					continue
				}
				running[s.Matrix.Group]++
			}
		}
		out = append(out, i)
	}
	return out
}

// MatrixStatus is the status of matrix step group as a whole, from its
// instances: failed when one failed; else dispatched while one runs,
// pending while one waits; succeeded when all succeeded; else skipped. ""
// when the run has no instance of group.
func (r Run) MatrixStatus(group string) string {
	var seen []string
	for _, s := range r.Steps {
		if s.Matrix != nil && s.Matrix.Group == group {
			seen = append(seen, s.Status)
		}
	}
	for _, status := range []string{StepStatusFailed, StepStatusDispatched, StepStatusPending} {
		if slices.Contains(seen, status) {
			return status
		}
	}
	switch {
	case len(seen) == 0:
		return ""
	case !slices.ContainsFunc(seen, func(s string) bool { return s != StepStatusSucceeded }):
		return StepStatusSucceeded
	}
	return StepStatusSkipped
}

// matrixValues is what `matrix` holds in the expressions of step i: its
// instance's values by key (numbers as doubles), or nil for a step that is
// no instance.
func (r Run) matrixValues(i int) map[string]any {
	inst := r.Steps[i].Matrix
	if inst == nil {
		return nil
	}
	out := make(map[string]any, len(inst.Values))
	for k, v := range inst.Values {
		var value any
		_ = json.Unmarshal(v, &value)
		out[k] = value
	}
	return out
}

// instanceIDPattern is the form of InstanceID's ids.
var instanceIDPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?\[[a-z][a-z0-9_]{0,31}=[A-Za-z0-9._%+-]*(,[a-z][a-z0-9_]{0,31}=[A-Za-z0-9._%+-]*)*\]$`)

// ValidStepID reports whether id can be the id of a step of a run: a name
// (NameRule) or the id of a matrix step's instance (InstanceID), at most
// MaxInstanceIDBytes.
func ValidStepID(id string) bool {
	return ValidName(id) || len(id) <= MaxInstanceIDBytes && instanceIDPattern.MatchString(id)
}
