package main

import (
	"net/http"
	"testing"
)

// FuzzRequestBodies sends whatever the fuzzer makes up as the body of every
// write: the server never panics and never answers 5xx, and it stays ready.
func FuzzRequestBodies(f *testing.F) {
	s := startServer(f, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	for _, seed := range []string{
		`{"name":"app-1","resource":"build","spec":{"repo":"r","ref":"x"}}`,
		`{"name":"x","schema":{"type":"object"}}`,
		`{"name":"p","resource":"build","steps":[{"id":"a","driver":"d"}]}`,
		`{"name":5}`, `[]`, `{`, `null`, `{"spec":{"repo":{"$ref":"#"}}}`,
		`{"name":"x","schema":{"$ref":"http://example.com/s.json"}}`,
	} {
		f.Add(seed)
	}
	paths := []string{"/resources", "/resource-definitions", "/pipelines", "/resource-definitions/apply", "/pipelines/apply"}
	f.Fuzz(func(t *testing.T, body string) {
		s.t = t
		for _, path := range paths {
			status, raw := s.callRaw("POST", path, body)
			if status >= 500 {
				t.Fatalf("POST %s %q: %d %s", path, body, status, raw)
			}
		}
		if status, _ := s.callRaw("PUT", "/resources/build/app-1", body); status >= 500 {
			t.Fatalf("PUT %q: %d", body, status)
		}
	})
}
