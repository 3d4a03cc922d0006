package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestOpenAPIExamples: every JSON request body and every JSON 2xx answer of
// the served document has a whole-body example, and each example is valid
// against its own schema, so a reader can trust it.
func TestOpenAPIExamples(t *testing.T) {
	s := startServer(t, nil)
	_, raw := s.callRaw("GET", "/openapi.json", nil)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	const base = "file:///openapi.json"
	c := jsonschema.NewCompiler()
	if err := c.AddResource(base, doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	check := func(where string, content any) {
		for typ, v := range asMap(content) {
			if !strings.Contains(typ, "json") {
				continue
			}
			mt := asMap(v)
			ref, _ := asMap(mt["schema"])["$ref"].(string)
			example, ok := mt["example"]
			if !ok {
				t.Errorf("%s (%s): no example", where, ref)
				continue
			}
			if ref == "" {
				continue // an inline schema: nothing named to check against
			}
			sch, err := c.Compile(base + ref)
			if err != nil {
				t.Fatalf("%s: compile %s: %v", where, ref, err)
			}
			if err := sch.Validate(example); err != nil {
				t.Errorf("%s: the example does not fit %s: %v", where, ref, err)
			}
			checked++
		}
	}
	for path, item := range asMap(doc["paths"]) {
		for method, o := range asMap(item) {
			op := asMap(o)
			where := strings.ToUpper(method) + " " + path
			if body, ok := op["requestBody"]; ok {
				check(where+" request", asMap(body)["content"])
			}
			for code, resp := range asMap(op["responses"]) {
				if strings.HasPrefix(code, "2") {
					check(where+" "+code, asMap(resp)["content"])
				}
			}
		}
	}
	t.Logf("%d examples valid against their schemas", checked)
	if checked < 40 {
		t.Errorf("only %d examples checked; the document has more bodies", checked)
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
