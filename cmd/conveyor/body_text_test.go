package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestRefusedBodyNotEchoed: a body the server cannot parse is refused with
// a 400 that quotes at most a little of it: a body nested 100,000 deep
// (200 KB) was echoed whole. Nothing is written.
func TestRefusedBodyNotEchoed(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.settle()
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	longKey := strings.Repeat("k", 300000)
	cases := []struct{ name, path, body string }{
		{"nested 100,000 deep", "/resources", deep},
		{"a spec nested 100,000 deep", "/resources", `{"name":"r","resource":"build","spec":` + deep + `}`},
		{"a key of 300 KB named twice", "/resources", `{"name":"r","resource":"build","spec":{"` + longKey + `":1,"` + longKey + `":2}}`},
		{"a name of 300 KB", "/resource-definitions", `{"name":"` + longKey + `","schema":{}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.snapshot()
			status, raw := s.callRaw("POST", tc.path, tc.body)
			if status != http.StatusBadRequest && status != http.StatusUnprocessableEntity {
				t.Errorf("status %d, want 400 or 422: %.300s", status, raw)
			}
			if len(raw) > 16<<10 || !strings.Contains(string(raw), "bytes in all") {
				t.Errorf("%d bytes of answer to %d bytes of body, want a short one that says how long the value was: %.400s", len(raw), len(tc.body), raw)
			}
			s.unchanged(before, tc.name)
		})
	}
}

// TestBodiesMustBeText: invalid UTF-8 and half a surrogate pair are refused
// with a 400 that says so, instead of being stored as U+FFFD; an escaped
// pair is text and is accepted.
func TestBodiesMustBeText(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.settle()
	spec := func(ref string) string {
		return `{"name":"r","resource":"build","spec":{"repo":"a","ref":"` + ref + `"}}`
	}
	cases := []struct{ name, body, says string }{
		{"a byte that is not UTF-8", spec("a\xffb"), "invalid UTF-8 at byte"},
		{"a truncated sequence", spec("\xe2\x82"), "invalid UTF-8 at byte"},
		{"an encoded surrogate", spec("\xed\xa0\x80"), "invalid UTF-8 at byte"},
		{"a lone high surrogate", spec(`\ud800`), `lone high surrogate \\ud800`},
		{"a high surrogate before a letter", spec(`\ud83dA`), `lone high surrogate`},
		{"a lone low surrogate", spec(`x\udc00`), `lone low surrogate \\udc00`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.snapshot()
			status, raw := s.callRaw("POST", "/resources", tc.body)
			if status != http.StatusBadRequest || !strings.Contains(string(raw), "must be UTF-8 text") || !strings.Contains(string(raw), tc.says) {
				t.Errorf("status %d, want 400 naming %q: %.400s", status, tc.says, raw)
			}
			s.unchanged(before, tc.name)
		})
	}
	created := s.must(http.StatusCreated, "POST", "/resources", spec(`\ud83d\ude00 \\ud800`))
	if ref := created["resource"].(map[string]any)["spec"].(map[string]any)["ref"]; ref != "😀 \\ud800" {
		t.Errorf("an escaped pair and an escaped backslash: stored %q", ref)
	}
}
