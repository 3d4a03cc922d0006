package schema_test

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/schema"
)

// doubling is a schema of depth levels, each an anyOf of two references to
// the level below: validating a value applies the bottom level 2^depth
// times. inside wraps each reference, e.g. `{"properties":{"a":%s}}` to
// descend one level of the spec per level of the schema; "%s" keeps it in
// place.
func doubling(depth int, inside string) json.RawMessage {
	var b strings.Builder
	fmt.Fprintf(&b, `{"$ref":"#/$defs/d%d","$defs":{"d0":{"type":"string"}`, depth)
	for i := 1; i <= depth; i++ {
		ref := fmt.Sprintf(inside, fmt.Sprintf(`{"$ref":"#/$defs/d%d"}`, i-1))
		fmt.Fprintf(&b, `,"d%d":{"anyOf":[%s,%s]}`, i, ref, ref)
	}
	b.WriteString("}}")
	return json.RawMessage(b.String())
}

// TestExplodingSchemaRefusedAtWrite: a schema whose validation doubles at
// each level is refused when the definition is written, with a message
// saying why; the same shape a few levels deep is accepted.
func TestExplodingSchemaRefusedAtWrite(t *testing.T) {
	cases := []struct {
		name   string
		schema json.RawMessage
	}{
		{"anyOf of references, 22 levels", doubling(22, "%s")},
		{"anyOf of references, 30 levels", doubling(30, "%s")},
		{"doubling one level of the spec at a time", doubling(30, `{"properties":{"a":%s}}`)},
		{"oneOf and allOf", json.RawMessage(strings.ReplaceAll(string(doubling(25, "%s")), "anyOf", "oneOf"))},
	}
	v := schema.New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			logCost(t, "compile of "+tc.name, func() { err = v.Compile(definition(string(tc.schema))) })
			list := problems(t, err)
			if len(list) != 1 || list[0].Field != "schema" || !strings.Contains(list[0].Rule, "more than 200,000 steps") {
				t.Errorf("got %v, want one problem on schema naming the bound", list)
			}
		})
	}
	if err := v.Compile(definition(string(doubling(8, "%s")))); err != nil {
		t.Errorf("8 levels (256 branches): %v", err)
	}
}

// TestCostliestAcceptedSchemaValidates: the deepest doubling schema still
// accepted at write is the worst validation a definition can ask for; it
// validates, answering a bounded list of problems.
func TestCostliestAcceptedSchemaValidates(t *testing.T) {
	v := schema.New()
	depth := 8
	for v.Compile(definition(string(doubling(depth+1, "%s")))) == nil {
		depth++
	}
	var err error
	logCost(t, fmt.Sprintf("validate against %d levels, the most accepted", depth), func() {
		err = v.Validate(definition(string(doubling(depth, "%s"))), json.RawMessage(`{"a":1}`))
	})
	if list := problems(t, err); len(list) != schema.MaxProblems+1 {
		t.Errorf("%d levels: %d problems, want %d", depth, len(list), schema.MaxProblems+1)
	}
}

// logCost runs fn and logs what it cost: its time, the bytes it allocated
// and the test process's peak RSS so far (run the test alone for that
// figure to be fn's).
func logCost(t *testing.T, what string, fn func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	fn()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	peak := "unknown"
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(status)) {
			if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				peak = strings.TrimSpace(kb)
			}
		}
	}
	t.Logf("%s: %v, %.1f MB allocated, peak RSS %s", what, took.Round(time.Millisecond), float64(after.TotalAlloc-before.TotalAlloc)/1e6, peak)
}

// TestExplodingSchemaCutOffAtValidation: a definition stored before its
// schema's cost was checked still cannot make one spec take the server:
// validation is refused before it starts, with one problem on "spec".
func TestExplodingSchemaCutOffAtValidation(t *testing.T) {
	v := schema.New()
	for _, depth := range []int{22, 30} {
		var err error
		logCost(t, fmt.Sprintf("validate against %d levels", depth), func() {
			err = v.Validate(definition(string(doubling(depth, "%s"))), json.RawMessage(`{"a":1}`))
		})
		list := problems(t, err)
		if len(list) != 1 || list[0].Field != "spec" || !strings.Contains(list[0].Rule, "more than 200,000 steps") {
			t.Errorf("depth %d: got %v", depth, list)
		}
	}
}

// TestWideSpecCutOff: a schema without a single reference can still cost
// much when a spec has many values: 1,991 subschemas for each of 50,000
// properties. The spec is refused; a small one against the same schema is
// validated.
func TestWideSpecCutOff(t *testing.T) {
	wide := `{"additionalProperties":{"allOf":[{}` + strings.Repeat(`,{"type":"integer"}`, 1990) + `]}}`
	v := schema.New()
	if err := v.Compile(definition(wide)); err != nil {
		t.Fatalf("the schema alone: %v", err)
	}
	var spec strings.Builder
	spec.WriteString(`{"k":1`)
	for i := range 50000 {
		fmt.Fprintf(&spec, `,"k%d":1`, i)
	}
	spec.WriteString("}")
	var err error
	logCost(t, "validate 50,000 properties", func() { err = v.Validate(definition(wide), json.RawMessage(spec.String())) })
	list := problems(t, err)
	if len(list) != 1 || !strings.Contains(list[0].Rule, "more than 200,000 steps") {
		t.Errorf("50,000 properties: %v", list)
	}
	if err := v.Validate(definition(wide), json.RawMessage(`{"a":1,"b":2}`)); err != nil {
		t.Errorf("2 properties: %v", err)
	}
}

// TestProblemsCapped: an answer lists at most MaxProblems problems and
// counts the rest in a last one.
func TestProblemsCapped(t *testing.T) {
	v := schema.New()
	spec := `{"list":[` + strings.TrimSuffix(strings.Repeat("1,", 500), ",") + `]}`
	list := problems(t, v.Validate(definition(`{"properties":{"list":{"items":{"type":"string"}}}}`), json.RawMessage(spec)))
	if len(list) != schema.MaxProblems+1 {
		t.Fatalf("got %d problems, want %d", len(list), schema.MaxProblems+1)
	}
	if last := list[len(list)-1]; last.Field != "spec" || last.Rule != "450 more problems are not listed" {
		t.Errorf("last problem %v", last)
	}
	list = problems(t, v.Validate(definition(string(doubling(12, "%s"))), json.RawMessage(`{}`)))
	if last := list[len(list)-1]; len(list) != schema.MaxProblems+1 || !strings.Contains(last.Rule, "4,046 more problems") {
		t.Errorf("12 levels of anyOf: %d problems, the last %v", len(list), last)
	}
}

// TestSelfReferenceRefused: a schema that applies itself to the same value
// again has no bound on its paths and could only fail there.
func TestSelfReferenceRefused(t *testing.T) {
	v := schema.New()
	for _, sch := range []string{
		`{"$ref":"#"}`,
		`{"anyOf":[{"type":"string"},{"$ref":"#/$defs/a"}],"$defs":{"a":{"allOf":[{"$ref":"#"}]}}}`,
	} {
		list := problems(t, v.Compile(definition(sch)))
		if !strings.Contains(list[0].Rule, "refers back to itself") {
			t.Errorf("%s: %v", sch, list)
		}
	}
}

// TestRecursiveSchemasAccepted: recursion that descends into the value (a
// tree) is bounded by the spec's depth and is accepted, by $ref and by
// $dynamicRef; a deep tree validates.
func TestRecursiveSchemasAccepted(t *testing.T) {
	trees := map[string]string{
		"$ref": `{"$ref":"#/$defs/node","$defs":{"node":{"type":"object",
			"properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}}}}}`,
		"$dynamicRef": `{"$dynamicAnchor":"node","type":"object",
			"properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$dynamicRef":"#node"}}}}`,
	}
	spec := `{"name":"leaf"}`
	for range 30 {
		spec = `{"name":"n","children":[` + spec + `,{"name":"x"}]}`
	}
	v := schema.New()
	for name, sch := range trees {
		if err := v.Compile(definition(sch)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := v.Validate(definition(sch), json.RawMessage(spec)); err != nil {
			t.Errorf("%s, a tree 30 deep: %v", name, err)
		}
	}
}

// TestDynamicAnchorsCounted: a $dynamicRef counts every schema it may
// resolve to, also one no $ref reaches, so an explosion behind a dynamic
// anchor is refused.
func TestDynamicAnchorsCounted(t *testing.T) {
	explosive := strings.TrimPrefix(string(doubling(22, "%s")), "{")
	sch := `{"$dynamicAnchor":"node","properties":{"next":{"$dynamicRef":"#node"}},
		"$defs":{"other":{"$id":"urn:other","$dynamicAnchor":"node",` + explosive + `}}`
	list := problems(t, schema.New().Compile(definition(sch)))
	if !strings.Contains(list[0].Rule, "more than 200,000 steps") {
		t.Errorf("got %v", list)
	}
}
