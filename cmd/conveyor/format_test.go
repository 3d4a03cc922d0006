package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestFormatAssertion: a spec whose string breaks its schema's format is
// accepted while format is an annotation (the default), and refused with a
// 422 naming the field, with nothing written, once the definition asks for
// format assertion. Reading the definition back shows the option; applying
// it again without the option accepts such specs again.
func TestFormatAssertion(t *testing.T) {
	s := startServer(t, nil)
	definition := func(assert bool) map[string]any {
		d := map[string]any{"name": "team", "schema": map[string]any{"type": "object",
			"properties": map[string]any{"owner": map[string]any{"type": "string", "format": "email"}}}}
		if assert {
			d["formatAssertion"] = true
		}
		return d
	}
	team := func(name, owner string) map[string]any {
		return map[string]any{"name": name, "resource": "team", "spec": map[string]any{"owner": owner}}
	}

	s.must(http.StatusCreated, "POST", "/resource-definitions", definition(false))
	s.must(http.StatusCreated, "POST", "/resources", team("a", "not an address"))

	s.must(http.StatusOK, "POST", "/resource-definitions/apply", definition(true))
	if got := s.must(http.StatusOK, "GET", "/resource-definitions/team", nil); got["formatAssertion"] != true {
		t.Errorf("the definition read back: %v", got)
	}
	s.must(http.StatusCreated, "POST", "/resources", team("b", "dev@example.com"))
	before := s.settle()
	status, problem := s.call("POST", "/resources", team("c", "not an address"))
	if status != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(problem), "spec.owner") {
		t.Errorf("a spec breaking format email with format assertion: %d %v", status, problem)
	}
	s.unchanged(before, "the refused spec")

	s.must(http.StatusOK, "PUT", "/resource-definitions/team", definition(false))
	s.must(http.StatusCreated, "POST", "/resources", team("c", "not an address"))
}
