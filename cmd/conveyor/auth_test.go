package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// callAs sends a request with the given bearer token ("" for none: an
// empty Authorization header, which the tests' transport leaves alone) and
// returns the status, the WWW-Authenticate header and the body.
func (s *testServer) callAs(token, method, path string, body any) (int, string, string) {
	s.t.Helper()
	auth := ""
	if token != "" {
		auth = "Bearer " + token
	}
	status, headers, raw := s.send(method, path, "", body, "Content-Type", "application/json", "Authorization", auth)
	return status, headers.Get("WWW-Authenticate"), raw
}

// issue makes a token of role through the API with the admin token.
func (s *testServer) issue(name, role string) string {
	s.t.Helper()
	out := s.must(http.StatusCreated, "POST", "/tokens", map[string]any{"name": name, "role": role})
	secret, _ := out["token"].(string)
	if !strings.HasPrefix(secret, "cvy_") || out["role"] != role || out["name"] != name {
		s.t.Fatalf("issued token: %v", out)
	}
	return secret
}

// TestAuthenticationRequired: without a token, or with one that is not a
// token, every request but the public ones is 401 with a challenge and
// writes nothing; health, readiness and the API's description stay public.
func TestAuthenticationRequired(t *testing.T) {
	s := startServer(t, nil)
	before := s.settle()
	for _, token := range []string{"", "cvy_not-a-token-at-all-not-at-all-xx"} {
		for _, req := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/resource-definitions", buildDefinition},
			{"GET", "/resource-definitions", nil},
			{"GET", "/events", nil},
			{"POST", "/admin/projections/rebuild", nil},
			{"GET", "/tokens", nil},
			{"GET", "/no-such-path", nil},
		} {
			status, challenge, body := s.callAs(token, req.method, req.path, req.body)
			if status != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer") {
				t.Errorf("%s %s with token %q: %d %q %s; want 401 with a Bearer challenge", req.method, req.path, token, status, challenge, body)
			}
		}
	}
	s.unchanged(before, "unauthenticated requests")
	for _, path := range []string{"/health", "/ready", "/openapi.json"} {
		if status, _, body := s.callAs("", "GET", path, nil); status != http.StatusOK {
			t.Errorf("GET %s without a token: %d %s", path, status, body)
		}
	}
}

// TestRoles: a viewer reads but cannot write (403, nothing written); an
// operator writes resources but not definitions; a driver token cannot
// reach the maintenance endpoints nor manage tokens.
func TestRoles(t *testing.T) {
	s := startServer(t, nil)
	viewer, operator, driver := s.issue("dashboard", "viewer"), s.issue("ci", "operator"), s.issue("compiler", "driver")
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	before := s.settle()
	for _, c := range []struct {
		token, method, path string
		body                any
	}{
		{viewer, "POST", "/resources", buildResource("app-1", "a")},
		{viewer, "POST", "/resource-definitions", map[string]any{"name": "other", "schema": map[string]any{"type": "object"}}},
		{viewer, "DELETE", "/resource-definitions/build", nil},
		{viewer, "POST", "/tokens", map[string]any{"name": "mine", "role": "admin"}},
		{operator, "POST", "/resource-definitions", map[string]any{"name": "other", "schema": map[string]any{"type": "object"}}},
		{operator, "POST", "/pipelines", ciPipeline},
		{operator, "POST", "/admin/projections/rebuild", nil},
		{driver, "POST", "/admin/projections/rebuild", nil},
		{driver, "POST", "/admin/projections/verify", nil},
		{driver, "GET", "/admin/parked", nil},
		{driver, "GET", "/tokens", nil},
		{driver, "POST", "/resources", buildResource("app-1", "a")},
	} {
		status, _, body := s.callAs(c.token, c.method, c.path, c.body)
		if status != http.StatusForbidden || !strings.Contains(body, "needs") {
			t.Errorf("%s %s: %d %s; want 403 saying what it needs", c.method, c.path, status, body)
		}
	}
	s.unchanged(before, "forbidden requests")
	for _, token := range []string{viewer, driver, operator} {
		if status, _, body := s.callAs(token, "GET", "/resource-definitions/build", nil); status != http.StatusOK {
			t.Errorf("a read with a token of each role: %d %s", status, body)
		}
	}
	if status, _, body := s.callAs(operator, "POST", "/resources", map[string]any{"name": "app-1", "resource": "build", "spec": map[string]any{"repo": "r", "ref": "a"}}); status != http.StatusCreated {
		t.Errorf("an operator creates a resource: %d %s", status, body)
	}
}

// TestMeAnswersTheTokensRole: GET /me tells each token its own name and
// role (never a secret), and asks for a token like every other read.
func TestMeAnswersTheTokensRole(t *testing.T) {
	s := startServer(t, nil)
	for name, role := range map[string]string{"dashboard": "viewer", "ci": "operator", "compiler": "driver"} {
		status, _, body := s.callAs(s.issue(name, role), "GET", "/me", nil)
		var me map[string]any
		_ = json.Unmarshal([]byte(body), &me)
		if status != http.StatusOK || me["name"] != name || me["role"] != role || me["id"] == "" || strings.Contains(body, "cvy_") {
			t.Errorf("GET /me as %s (%s): %d %s", name, role, status, body)
		}
	}
	if status, _, _ := s.callAs("", "GET", "/me", nil); status != http.StatusUnauthorized {
		t.Errorf("GET /me without a token: %d, want 401", status)
	}
}

// TestRevokedTokenRefused: a revoked token is refused at once on the
// server that revoked it, and the events of both record who did it.
func TestRevokedTokenRefused(t *testing.T) {
	s := startServer(t, nil)
	secret := s.issue("ci", "operator")
	if status, _, body := s.callAs(secret, "GET", "/runs", nil); status != http.StatusOK {
		t.Fatalf("a fresh token: %d %s", status, body)
	}
	s.must(http.StatusOK, "DELETE", "/tokens/ci", nil)
	deadline := time.Now().Add(time.Second)
	for {
		status, _, _ := s.callAs(secret, "GET", "/runs", nil)
		if status == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revoked token still answers %d after a second", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	page := s.must(http.StatusOK, "GET", "/events?aggregate=token/ci", nil)
	items, _ := page["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("events of token ci: %v", page)
	}
	for _, it := range items {
		actor, _ := it.(map[string]any)["actor"].(map[string]any)
		if actor["kind"] != "token" || actor["name"] != localAdmin {
			t.Errorf("event %v: actor %v, want the token %s", it.(map[string]any)["type"], actor, localAdmin)
		}
	}
	if status, _, body := s.callAs("", "DELETE", "/tokens/ci", nil); status != http.StatusUnauthorized {
		t.Errorf("revoking without a token: %d %s", status, body)
	}
}

// TestEventsRecordTheirActor: the events a request causes name its token;
// those the engine causes name the server.
func TestEventsRecordTheirActor(t *testing.T) {
	s := startServer(t, nil)
	operator := s.issue("ci", "operator")
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	status, _, body := s.callAs(operator, "POST", "/resources", buildResource("app-1", "a"))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var created struct {
		RunID string `json:"runid"`
	}
	_ = json.Unmarshal([]byte(body), &created)
	s.settle()
	trace := s.must(http.StatusOK, "GET", "/runs/"+created.RunID+"/trace", nil)
	cause, _ := trace["cause"].(map[string]any)
	if actor, _ := cause["actor"].(map[string]any); actor["name"] != "ci" || actor["kind"] != "token" {
		t.Errorf("the resource change's actor: %v", cause["actor"])
	}
	events, _ := trace["events"].([]any)
	if len(events) == 0 {
		t.Fatalf("trace without events: %v", trace)
	}
	for _, e := range events {
		actor, _ := e.(map[string]any)["actor"].(map[string]any)
		if actor["kind"] != "server" || actor["name"] != "engine" {
			t.Errorf("%v: actor %v, want the engine", e.(map[string]any)["type"], actor)
		}
	}
}

// TestOpenAPIDeclaresRoles: the document declares the bearer scheme and,
// for every operation, the role it needs; non-public ones need the scheme.
func TestOpenAPIDeclaresRoles(t *testing.T) {
	s := startServer(t, nil)
	_, _, body := s.callAs("", "GET", "/openapi.json", nil)
	var doc struct {
		Components struct {
			SecuritySchemes map[string]struct{ Type, Scheme string } `json:"securitySchemes"`
		} `json:"components"`
		Paths map[string]map[string]struct {
			Role     string                `json:"x-conveyor-role"`
			Security []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if b := doc.Components.SecuritySchemes["bearer"]; b.Type != "http" || b.Scheme != "bearer" {
		t.Errorf("security scheme: %+v", doc.Components.SecuritySchemes)
	}
	want := map[string]string{"post /resources": "operator", "get /resources": "viewer", "post /pipelines": "admin",
		"post /tokens": "admin", "get /health": "public", "post /runs/{id}/cancel": "operator"}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := method + " " + path
			if op.Role == "" {
				t.Errorf("%s declares no role", key)
			}
			if w, ok := want[key]; ok && op.Role != w {
				t.Errorf("%s: role %q, want %q", key, op.Role, w)
			}
			has := len(op.Security) > 0 && op.Security[0]["bearer"] != nil
			if len(op.Security) == 0 || (op.Role != "public") != has {
				t.Errorf("%s: security %v for role %s", key, op.Security, op.Role)
			}
		}
	}
}
