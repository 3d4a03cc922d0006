package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestBadInputChangesNothing sends every kind of bad request and checks the
// status, the problem detail, and that no event was appended and nothing
// changed in etcd.
func TestBadInputChangesNothing(t *testing.T) {
	s := startServer(t, func(c *serverConfig) { c.MaxBody = 64 << 10 })
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))
	s.settle() // the run app-1 started waits for its driver from here on

	long := strings.Repeat("a", 64)
	huge := `{"name":"big","resource":"build","spec":{"repo":"` + strings.Repeat("x", 64<<10) + `","ref":"r"}}`
	schema := buildDefinition["schema"]
	cases := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		detail             string // a substring of the problem's detail or of an error message
	}{
		{"malformed JSON", "POST", "/resource-definitions", `{"name": "x", "schema": {`, nil, 400, ""},
		{"not JSON at all", "POST", "/resources", `hello`, nil, 400, ""},
		{"definition name of wrong type", "POST", "/resource-definitions", `{"name": 5, "schema": {}}`, nil, 422, "expected string"},
		{"uncompilable schema", "POST", "/resource-definitions", map[string]any{"name": "x", "schema": map[string]any{"type": 5}}, nil, 422, "schema"},
		{"schema missing", "POST", "/resource-definitions", map[string]any{"name": "x"}, nil, 422, "schema"},
		{"empty name", "POST", "/resource-definitions", map[string]any{"name": "", "schema": schema}, nil, 422, "must be 1 to 63"},
		{"upper-case name", "POST", "/resource-definitions", map[string]any{"name": "Build", "schema": schema}, nil, 422, "lower-case"},
		{"name with a dot", "POST", "/resource-definitions", map[string]any{"name": "a.b", "schema": schema}, nil, 422, "lower-case"},
		{"name of 64 characters", "POST", "/resource-definitions", map[string]any{"name": long, "schema": schema}, nil, 422, "1 to 63"},
		{"duplicate definition", "POST", "/resource-definitions", buildDefinition, nil, 409, "already exists"},
		{"replace of a missing definition", "PUT", "/resource-definitions/nope", map[string]any{"schema": schema}, nil, 404, "not found"},
		{"delete of a definition in use", "DELETE", "/resource-definitions/build", nil, nil, 409, "still has 1 resource"},
		{"pipeline over a missing definition", "POST", "/pipelines", map[string]any{"name": "p", "resource": "nope", "steps": []map[string]any{{"id": "a", "driver": "d"}}}, nil, 422, `"nope" does not exist`},
		{"pipeline without steps", "POST", "/pipelines", map[string]any{"name": "p", "resource": "build", "steps": []any{}}, nil, 422, "at least one step"},
		{"pipeline with duplicate step ids", "POST", "/pipelines", map[string]any{"name": "p", "resource": "build", "steps": []map[string]any{{"id": "a", "driver": "d"}, {"id": "a", "driver": "e"}}}, nil, 422, "unique"},
		{"pipeline with a bad driver name", "POST", "/pipelines", map[string]any{"name": "p", "resource": "build", "steps": []map[string]any{{"id": "a", "driver": "My.Driver"}}}, nil, 422, "lower-case"},
		{"duplicate pipeline", "POST", "/pipelines", ciPipeline, nil, 409, "already exists"},
		{"resource of an unknown definition", "POST", "/resources", map[string]any{"name": "r", "resource": "nope", "spec": map[string]any{}}, nil, 422, `"nope" does not exist`},
		{"resource with an unknown pipeline", "POST", "/resources", map[string]any{"name": "r", "resource": "build", "pipeline": "nope", "spec": map[string]any{"repo": "a", "ref": "b"}}, nil, 422, `pipeline "nope" does not exist`},
		{"spec violating the schema", "POST", "/resources", map[string]any{"name": "r", "resource": "build", "spec": map[string]any{"repo": 5}}, nil, 422, "spec"},
		{"spec of wrong type", "POST", "/resources", map[string]any{"name": "r", "resource": "build", "spec": "text"}, nil, 422, "expected object"},
		{"metadata of wrong type", "POST", "/resources", map[string]any{"name": "r", "resource": "build", "metadata": map[string]any{"k": 1}, "spec": map[string]any{"repo": "a", "ref": "b"}}, nil, 422, "expected string"},
		{"resource name breaking the rule", "POST", "/resources", map[string]any{"name": "App_1.x", "resource": "build", "spec": map[string]any{"repo": "a", "ref": "b"}}, nil, 422, "lower-case"},
		{"body over the limit", "POST", "/resources", huge, nil, 413, "too large"},
		{"duplicate resource", "POST", "/resources", buildResource("app-1", "abc"), nil, 409, "already exists"},
		{"replace with a stale version", "PUT", "/resources/build/app-1", buildResource("app-1", "x"), []string{"If-Match", `"7"`}, 409, "at version 1, not 7"},
		{"replace with a bad If-Match", "PUT", "/resources/build/app-1", buildResource("app-1", "x"), []string{"If-Match", "seven"}, 422, "positive integer"},
		{"replace with the name of another resource", "PUT", "/resources/build/app-1", buildResource("app-2", "x"), nil, 422, "must equal"},
		{"replace of a missing resource", "PUT", "/resources/build/nope", buildResource("nope", "x"), nil, 404, "not found"},
		{"delete of a missing resource", "DELETE", "/resources/build/nope", nil, nil, 404, "not found"},
		{"read with a bad name", "GET", "/resources/build/Nope", nil, nil, 422, "lower-case"},
		{"read of a missing version", "GET", "/resources/build/app-1/9", nil, nil, 404, "not found"},
		{"version that is not a number", "GET", "/resources/build/app-1/latest", nil, nil, 422, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.snapshot()
			status, problem := s.call(tc.method, tc.path, tc.body, tc.headers...)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, problem)
			}
			if got := fmt.Sprint(problem["status"]); got != fmt.Sprint(tc.status) {
				t.Errorf("problem status %s, want %d: %v", got, tc.status, problem)
			}
			if all := fmt.Sprint(problem["detail"], problem["errors"]); !strings.Contains(all, tc.detail) {
				t.Errorf("problem %v does not mention %q", problem, tc.detail)
			}
			s.unchanged(before, tc.name)
		})
	}
}

// TestProblemsAreRFC9457 checks the media type of an error answer.
func TestProblemsAreRFC9457(t *testing.T) {
	s := startServer(t, nil)
	req, _ := http.NewRequest("GET", s.at.API+"/resource-definitions/nope", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %q, want 404 application/problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
