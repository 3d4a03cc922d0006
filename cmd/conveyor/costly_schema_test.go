package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// doublingSchema is a schema of depth levels, each an anyOf of two
// references to the level below: validating one spec against it would
// apply the bottom level 2^depth times.
func doublingSchema(depth int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"$ref":"#/$defs/d%d","$defs":{"d0":{"type":"string"}`, depth)
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, `,"d%[1]d":{"anyOf":[{"$ref":"#/$defs/d%[2]d"},{"$ref":"#/$defs/d%[2]d"}]}`, i, i-1)
	}
	return b.String() + "}}"
}

// TestCostlySchemaRefused: a definition whose schema would make validating
// one spec exhaust the server is refused when written, with a 422 that says
// why; nothing is written. A spec with hundreds of violations answers a
// bounded list of them.
func TestCostlySchemaRefused(t *testing.T) {
	s := startServer(t, nil)
	s.settle() // the read model's first checkpoints written
	for _, depth := range []int{22, 30} {
		t.Run(fmt.Sprintf("%d levels", depth), func(t *testing.T) {
			before := s.snapshot()
			body := fmt.Sprintf(`{"name":"deep","schema":%s}`, doublingSchema(depth))
			start := time.Now()
			status, problem := s.call("POST", "/resource-definitions", body)
			t.Logf("%d levels: %d in %v", depth, status, time.Since(start).Round(time.Millisecond))
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %v", status, problem)
			}
			if all := fmt.Sprint(problem["detail"], problem["errors"]); !strings.Contains(all, "more than 200,000 steps") {
				t.Errorf("problem %v does not name the bound", problem)
			}
			s.unchanged(before, "a costly schema")
		})
	}

	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "lists",
		"schema": map[string]any{"properties": map[string]any{"list": map[string]any{"items": map[string]any{"type": "string"}}}}})
	before := s.settle()
	list := make([]int, 5000)
	start := time.Now()
	status, raw := s.callRaw("POST", "/resources", map[string]any{"name": "l", "resource": "lists", "spec": map[string]any{"list": list}})
	t.Logf("5,000 violations: %d, %d bytes in %v", status, len(raw), time.Since(start).Round(time.Millisecond))
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("5,000 violations: status %d: %.300s", status, raw)
	}
	var problem struct {
		Errors []struct{ Message string } `json:"errors"`
	}
	if err := json.Unmarshal(raw, &problem); err != nil {
		t.Fatal(err)
	}
	if n := len(problem.Errors); n != 51 || problem.Errors[n-1].Message != "4,950 more problems are not listed" || len(raw) > 16<<10 {
		t.Errorf("5,000 violations: %d bytes of answer, want 50 problems and a count: %.300s", len(raw), raw)
	}
	s.unchanged(before, "a spec of 5,000 violations")
}
