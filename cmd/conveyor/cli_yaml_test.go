package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Apply reads YAML as YAML 1.2 does: y, n, yes, no, on and off are words,
// not booleans, as keys and as values; keys that look like numbers or
// booleans stay as written, dates stay as written, and merged mappings
// give way to the mapping's own keys.
func TestApplyReadsYAMLWordsAsWritten(t *testing.T) {
	docs, err := readDocuments([]byte(`
kind: Pipeline
name: ci
base: &base {shell: bash, n: from-base}
steps:
  - id: build
    driver: exec
    with:
      <<: *base
      n: "${{ resource.name }}"
      y: yes
      on: push
      off: no
      1: one
      true: kept
      flag: true
      count: 3
      day: 2026-01-02
`))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Steps []struct {
			With map[string]any `json:"with"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(docs[0].Raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"shell": "bash", "n": "${{ resource.name }}", "y": "yes", "on": "push", "off": "no",
		"1": "one", "true": "kept", "flag": true, "count": 3.0, "day": "2026-01-02"}
	if diff := cmp.Diff(want, got.Steps[0].With); diff != "" {
		t.Errorf("with (-want +got):\n%s", diff)
	}
}

// A document whose aliases of aliases stand for billions of values is
// refused, not expanded.
func TestApplyRefusesAnExplodingYAMLDocument(t *testing.T) {
	doc := "kind: Pipeline\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		doc += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	_, err := readDocuments([]byte(doc))
	if err == nil || !strings.Contains(err.Error(), "more than a million values") {
		t.Fatalf("exploding document: %v, want it refused", err)
	}
}
