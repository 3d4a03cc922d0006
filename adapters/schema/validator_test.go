package schema_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/conveyor/conveyor/adapters/schema"
	"github.com/conveyor/conveyor/domain"
)

const buildSchema = `{"type": "object", "required": ["repo", "ref"], "additionalProperties": false,
  "properties": {"repo": {"type": "string"}, "ref": {"type": "string"},
                 "opts": {"type": "object", "properties": {"depth": {"type": "integer", "minimum": 1}}}}}`

// definition is a definition of schema with format as an annotation only.
func definition(schema string) domain.ResourceDefinition {
	return domain.ResourceDefinition{Schema: json.RawMessage(schema)}
}

func problems(t *testing.T, err error) domain.ValidationErrors {
	t.Helper()
	list, ok := domain.AsValidation(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a validation error", err, err)
	}
	for _, p := range list {
		for _, leak := range []string{"/work", "/tmp", "file://", "urn:conveyor"} {
			if strings.Contains(p.Error(), leak) {
				t.Errorf("message %q leaks %q", p.Error(), leak)
			}
		}
	}
	return list
}

func TestValidate(t *testing.T) {
	v := schema.New()
	cases := []struct {
		name, spec  string
		field, rule string // "" field: valid
	}{
		{"valid", `{"repo": "r", "ref": "x"}`, "", ""},
		{"wrong type", `{"repo": 5, "ref": "x"}`, "spec/repo", "type: got number, want string"},
		{"missing required", `{"repo": "r"}`, "spec", "required: missing property 'ref'"},
		{"additional property", `{"repo": "r", "ref": "x", "extra": 1}`, "spec", "additionalProperties"},
		{"nested location", `{"repo": "r", "ref": "x", "opts": {"depth": 0}}`, "spec/opts/depth", "minimum: got 0, want 1"},
		{"array", `[1, 2]`, "spec", "must be a JSON object"},
		{"string", `"text"`, "spec", "must be a JSON object"},
		{"null", `null`, "spec", "must be a JSON object"},
		{"not JSON", `{`, "spec", "not valid JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := v.Validate(definition(buildSchema), json.RawMessage(tc.spec))
			if tc.field == "" {
				if err != nil {
					t.Fatalf("valid spec rejected: %v", err)
				}
				return
			}
			list := problems(t, err)
			if list[0].Field != tc.field || !strings.Contains(list[0].Rule, tc.rule) {
				t.Errorf("got %v, want field %q with rule containing %q", list, tc.field, tc.rule)
			}
			if keyword, rest, ok := strings.Cut(list[0].Rule, ": "); ok && strings.HasPrefix(rest, keyword+":") {
				t.Errorf("rule %q names its keyword twice", list[0].Rule)
			}
		})
	}
}

func TestCompileRejects(t *testing.T) {
	v := schema.New()
	cases := []struct{ name, schema, rule string }{
		{"bad type value", `{"type": 5}`, "type"},
		{"not JSON", `{"type": `, "not valid JSON"},
		{"an array", `[1]`, "object or a boolean"},
		{"external ref", `{"$ref": "http://example.com/x.json"}`, "not allowed"},
		{"file ref", `{"$ref": "file:///etc/passwd"}`, "not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			list := problems(t, v.Compile(definition(tc.schema)))
			if !strings.HasPrefix(list[0].Field, "schema") || !strings.Contains(list[0].Error(), tc.rule) {
				t.Errorf("got %v, want a schema problem mentioning %q", list, tc.rule)
			}
		})
	}
}

func TestDraft07Schema(t *testing.T) {
	v := schema.New()
	draft7 := `{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
	  "properties": {"n": {"type": "integer", "exclusiveMinimum": 3}}}`
	if err := v.Compile(definition(draft7)); err != nil {
		t.Fatalf("draft-07 schema rejected: %v", err)
	}
	if err := v.Validate(definition(draft7), json.RawMessage(`{"n": 3}`)); err == nil {
		t.Error("exclusiveMinimum 3 accepted 3")
	}
}

func TestConcurrentUse(t *testing.T) {
	v := schema.New()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec := `{"repo": "r", "ref": "x"}`
			if i%2 == 1 {
				spec = `{"repo": 1, "ref": "x"}`
			}
			err := v.Validate(definition(buildSchema), json.RawMessage(spec))
			if (err == nil) != (i%2 == 0) {
				t.Errorf("goroutine %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
}

func FuzzValidate(f *testing.F) {
	f.Add(buildSchema, `{"repo": "r", "ref": "x"}`)
	f.Add(`{"type": "string"}`, `{}`)
	f.Add(`true`, `[]`)
	f.Add(`{"$ref": "#/$defs/a", "$defs": {"a": {"type": "object"}}}`, `{"a": 1}`)
	v := schema.New()
	f.Fuzz(func(t *testing.T, sch, spec string) {
		err := v.Validate(definition(sch), json.RawMessage(spec))
		if err == nil {
			return
		}
		if _, ok := domain.AsValidation(err); !ok {
			t.Fatalf("error %v (%T) is not a validation error", err, err)
		}
	})
}

// TestLargeSchemaRefusedQuickly: a schema of more objects than the bound is
// refused before compiling, so the answer comes at once; one at the bound
// compiles.
func TestLargeSchemaRefusedQuickly(t *testing.T) {
	build := propertiesSchema
	v := schema.New()
	list := problems(t, v.Compile(domain.ResourceDefinition{Schema: build(30000)}))
	if !strings.Contains(list[0].Error(), "more than 2000 objects") {
		t.Errorf("30,000 properties: %v", list)
	}
	if err := v.Compile(domain.ResourceDefinition{Schema: build(schema.MaxSchemaObjects - 2)}); err != nil {
		t.Errorf("a schema at the bound: %v", err)
	}
}

// TestFormatAssertion: "format" is an annotation unless the definition asks
// to assert it; the same schema compiled both ways keeps both apart.
func TestFormatAssertion(t *testing.T) {
	const emailSchema = `{"type": "object", "properties": {"owner": {"type": "string", "format": "email"}}}`
	v := schema.New()
	annotated, asserted := definition(emailSchema), definition(emailSchema)
	asserted.FormatAssertion = true
	for _, spec := range []string{`{"owner": "not an address"}`, `{"owner": "dev@example.com"}`} {
		if err := v.Validate(annotated, json.RawMessage(spec)); err != nil {
			t.Errorf("without format assertion, %s: %v", spec, err)
		}
	}
	if err := v.Validate(asserted, json.RawMessage(`{"owner": "dev@example.com"}`)); err != nil {
		t.Errorf("with format assertion, a valid address: %v", err)
	}
	list := problems(t, v.Validate(asserted, json.RawMessage(`{"owner": "not an address"}`)))
	if len(list) != 1 || list[0].Field != "spec/owner" || !strings.Contains(list[0].Rule, "format") {
		t.Errorf("with format assertion, an invalid address: %v", list)
	}
	if err := v.Validate(annotated, json.RawMessage(`{"owner": "not an address"}`)); err != nil {
		t.Errorf("the annotated schema after the asserted one was compiled: %v", err)
	}
}

// propertiesSchema is an object schema of n string properties.
func propertiesSchema(n int) json.RawMessage {
	var b strings.Builder
	b.WriteString(`{"type":"object","properties":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"p%d":{"type":"string"}`, i)
	}
	b.WriteString("}}")
	return json.RawMessage(b.String())
}

// BenchmarkCompileProperties compiles schemas of growing numbers of
// properties, each time with a fresh validator (no cache): the time per
// compile grows with the schema, which MaxSchemaObjects bounds.
func BenchmarkCompileProperties(b *testing.B) {
	for _, n := range []int{250, 1000, 1900} {
		doc := propertiesSchema(n)
		b.Run(fmt.Sprintf("properties=%d", n), func(b *testing.B) {
			for range b.N {
				if err := schema.New().Compile(domain.ResourceDefinition{Schema: doc}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
