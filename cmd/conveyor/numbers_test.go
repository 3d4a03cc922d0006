package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestNumbersKeptExactly: integers beyond 2^53 and decimals are stored and
// answered digit for digit, and a const of such a number accepts itself.
func TestNumbersKeptExactly(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions",
		`{"name":"big","schema":{"type":"object","properties":{"id":{"const":9007199254740993}}}}`)
	spec := `{"id":9007199254740993,"huge":12345678901234567890,"list":[1.50,-0.0,1e400]}`
	if status, raw := s.callRaw("POST", "/resources", `{"name":"n1","resource":"big","spec":`+spec+`}`); status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, raw)
	}
	status, raw := s.callRaw("GET", "/resources/big/n1", nil)
	for _, want := range []string{`"id":9007199254740993`, `"huge":12345678901234567890`, `[1.50,-0.0,1e400]`} {
		if status != http.StatusOK || !strings.Contains(string(raw), want) {
			t.Errorf("read back: %d, want %s in\n%s", status, want, raw)
		}
	}
	status, raw = s.callRaw("GET", "/resource-definitions/big", nil)
	if !strings.Contains(string(raw), `"const":9007199254740993`) {
		t.Errorf("definition read back: %d %s", status, raw)
	}
	if status, out := s.call("POST", "/resources", `{"name":"n2","resource":"big","spec":{"id":9007199254740992}}`); status != http.StatusUnprocessableEntity {
		t.Errorf("a neighbour of the const: %d %v", status, out)
	}
}

// TestDuplicateKeysRefused: a body naming a key twice, at any depth, is 422
// saying which key and where, and writes nothing; so is a body nested
// deeper than the limit.
func TestDuplicateKeysRefused(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	before := s.settle()
	for body, want := range map[string]string{
		`{"name":"a","name":"b","resource":"build","spec":{"repo":"r","ref":"x"}}`:                  `duplicate key \"name\" in body`,
		`{"name":"a","resource":"build","spec":{"repo":"r","ref":"x","ref":"y"}}`:                   `duplicate key \"ref\" in body.spec`,
		`{"name":"a","resource":"build","spec":{"repo":"r","ref":"x","l":[{"k":1},{"k":1,"k":2}]}}`: `duplicate key \"k\" in body.spec.l[1]`,
		`{"name":"a","resource":"build","spec":{"repo":"r","ref":"x","d":` + nested(70) + `}}`:      `nests deeper than 64`,
		`{"name":"c","schema":{"type":"object","type":"string"}}`:                                   `duplicate key \"type\" in body.schema`,
	} {
		path := "/resources"
		if strings.Contains(body, `"schema"`) {
			path = "/resource-definitions"
		}
		status, raw := s.callRaw("POST", path, body)
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(raw), want) {
			t.Errorf("POST %s %.60s: %d %s; want 422 with %s", path, body, status, raw, want)
		}
	}
	s.unchanged(before, "bodies with duplicate keys")
}

func nested(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }
