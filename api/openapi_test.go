package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/api"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
)

// schema is the part of a JSON Schema these tests read.
type schema struct {
	Required           []string           `json:"required"`
	Properties         map[string]*schema `json:"properties"`
	Items              *schema            `json:"items"`
	Pattern            string             `json:"pattern"`
	MaxLength          int                `json:"maxLength"`
	PatternDescription *string            `json:"patternDescription"`
	XPatternDesc       string             `json:"x-pattern-description"`
}

// openAPIDocument is the document a server without authentication serves.
func openAPIDocument(t *testing.T) (doc struct {
	Paths map[string]map[string]struct {
		Description string
		Responses   map[string]any
	} `json:"paths"`
	Components struct{ Schemas map[string]*schema } `json:"components"`
}) {
	t.Helper()
	s, err := api.New(api.Config{}, api.Deps{Commands: new(commands.Handler),
		Queries: projections.NewReadModel(projections.NewMemStore()), Logs: unusedLogs{}, Events: unusedEvents{}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("%d %v", rec.Code, err)
	}
	return doc
}

// TestOpenAPINames: every name field of a request body states the name rule
// as the domain does (its pattern, at most 63 characters, the rule in
// words), or the same rule allowing empty where empty means "not given";
// the fields a create needs are required.
func TestOpenAPINames(t *testing.T) {
	doc := openAPIDocument(t)
	optional := "^(" + strings.TrimSuffix(strings.TrimPrefix(domain.NamePattern, "^"), "$") + ")?$"
	names := 0
	var walk func(where string, s *schema)
	walk = func(where string, s *schema) {
		if s == nil {
			return
		}
		if s.PatternDescription != nil {
			t.Errorf("%s: patternDescription is not an OpenAPI keyword", where)
		}
		if s.Pattern != "" {
			names++
			want := domain.NameRule
			if s.Pattern == optional {
				want = "must be empty or " + strings.TrimPrefix(domain.NameRule, "must be ")
			} else if s.Pattern != domain.NamePattern {
				t.Errorf("%s: pattern %s, want %s", where, s.Pattern, domain.NamePattern)
			}
			if s.MaxLength != 63 || s.XPatternDesc != want {
				t.Errorf("%s: maxLength %d, description %q; want 63, %q", where, s.MaxLength, s.XPatternDesc, want)
			}
		}
		walk(where+"[]", s.Items)
		for name, p := range s.Properties {
			walk(where+"."+name, p)
		}
	}
	for name, s := range doc.Components.Schemas {
		walk(name, s)
	}
	if names < 10 {
		t.Errorf("%d name fields with a pattern; the bodies have more", names)
	}
	for body, fields := range map[string][]string{"DefinitionBody": {"name", "schema"}, "ResourceBody": {"name", "resource", "spec"},
		"PipelineBody": {"name", "resource", "steps"}} {
		for _, f := range fields {
			if s := doc.Components.Schemas[body]; s == nil || !slices.Contains(s.Required, f) {
				t.Errorf("%s does not require %s", body, f)
			}
		}
	}
}

// TestOpenAPIAnswers: every operation has a description and documents a
// client error; those with a name in the path document 404, writes 409.
func TestOpenAPIAnswers(t *testing.T) {
	for path, ops := range openAPIDocument(t).Paths {
		for method, op := range ops {
			key := method + " " + path
			if op.Description == "" {
				t.Errorf("%s has no description", key)
			}
			has := func(code string) bool { _, ok := op.Responses[code]; return ok }
			if !slices.ContainsFunc([]string{"400", "403", "404", "409", "413", "415", "422"}, has) {
				t.Errorf("%s documents no 4xx answer", key)
			}
			if strings.Contains(path, "{") && !has("404") {
				t.Errorf("%s does not document 404", key)
			}
			if method != "get" && !has("409") {
				t.Errorf("%s does not document 409", key)
			}
		}
	}
}
