package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// send sends a JSON body with exactly the headers given (Content-Type
// included, or none) and, when host is not empty, that Host header.
func (s *testServer) send(method, path, host string, body any, headers ...string) (int, http.Header, string) {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		r = strings.NewReader(string(data))
	}
	req, err := http.NewRequest(method, s.at.API+path, r)
	if err != nil {
		s.t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw)
}

// TestWebPagesCannotDriveALocalServer sends what a web page in a
// developer's browser could send to a server on 127.0.0.1: simple
// cross-site POSTs (text/plain or form bodies), a write from another origin,
// and requests under a rebound name. Each is refused and writes nothing;
// the same writes from the server's own origin or from clients that are not
// browsers still work.
func TestWebPagesCannotDriveALocalServer(t *testing.T) {
	s := startServer(t, nil)
	before := s.settle() // the server's own first events projected
	definition := func(name string) map[string]any {
		return map[string]any{"name": name, "schema": map[string]any{"type": "object"}}
	}
	refused := []struct {
		name    string
		want    int
		host    string
		headers []string
		detail  string
	}{
		{"text/plain", 415, "", []string{"Content-Type", "text/plain"}, "Content-Type: application/json"},
		{"a form, as curl -d sends", 415, "", []string{"Content-Type", "application/x-www-form-urlencoded"}, "Content-Type: application/json"},
		{"another origin", 403, "", []string{"Content-Type", "application/json", "Origin", "https://evil.example"}, "Origin"},
		{"another origin with a simple body", 403, "", []string{"Content-Type", "text/plain", "Origin", "https://evil.example"}, "Origin"},
		{"a rebound name", 403, "evil.example:8080", []string{"Content-Type", "application/json"}, "loopback"},
	}
	for i, c := range refused {
		status, h, body := s.send("POST", "/resource-definitions", c.host, definition(fmt.Sprintf("refused-%d", i)), c.headers...)
		if status != c.want || h.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, c.detail) {
			t.Errorf("%s: %d %s %s, want %d with %q", c.name, status, h.Get("Content-Type"), body, c.want, c.detail)
		}
	}
	if status, _, body := s.send("GET", "/resource-definitions", "evil.example", nil); status != http.StatusForbidden {
		t.Errorf("a read under a rebound name: %d %s", status, body)
	}
	s.unchanged(before, "refused requests")

	accepted := []struct {
		name    string
		host    string
		headers []string
	}{
		{"JSON", "", []string{"Content-Type", "application/json"}},
		{"JSON with a charset", "", []string{"Content-Type", "application/json; charset=utf-8"}},
		{"no Content-Type, as clients of the original send", "", nil},
		{"the server's own origin", "", []string{"Content-Type", "application/json", "Origin", s.at.API}},
		{"localhost", strings.Replace(strings.TrimPrefix(s.at.API, "http://"), "127.0.0.1", "localhost", 1), []string{"Content-Type", "application/json"}},
	}
	for i, c := range accepted {
		if status, _, body := s.send("POST", "/resource-definitions", c.host, definition(fmt.Sprintf("accepted-%d", i)), c.headers...); status != http.StatusCreated {
			t.Errorf("%s: %d %s", c.name, status, body)
		}
	}
	// Reads from other origins are answered, as before; browsers keep their
	// answers from the page unless CORS allows it.
	if status, h, _ := s.send("GET", "/resource-definitions", "", nil, "Origin", "https://evil.example"); status != http.StatusOK || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a cross-origin read: %d %v", status, h)
	}
}

// TestCORSOrigins: a site named by --cors-origin gets its preflight
// answered and may write; others may not.
func TestCORSOrigins(t *testing.T) {
	const ui = "https://ui.example:8443"
	s := startServer(t, func(c *serverConfig) { c.CORSOrigins = []string{ui} })
	status, h, body := s.send("OPTIONS", "/resource-definitions", "", nil,
		"Origin", ui, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != ui ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("preflight: %d %v %s", status, h, body)
	}
	def := map[string]any{"name": "from-ui", "schema": map[string]any{"type": "object"}}
	status, h, body = s.send("POST", "/resource-definitions", "", def, "Content-Type", "application/json", "Origin", ui)
	if status != http.StatusCreated || h.Get("Access-Control-Allow-Origin") != ui {
		t.Errorf("a write from the allowed origin: %d %v %s", status, h, body)
	}
	before := s.settle() // the allowed write projected
	if status, h, _ := s.send("OPTIONS", "/resource-definitions", "", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST"); status != http.StatusForbidden || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight of another origin: %d %v", status, h)
	}
	def["name"] = "from-evil"
	if status, _, body := s.send("POST", "/resource-definitions", "", def, "Content-Type", "application/json", "Origin", "https://evil.example"); status != http.StatusForbidden {
		t.Errorf("a write from another origin: %d %s", status, body)
	}
	s.unchanged(before, "another origin")
}

// TestPreflightWithoutCORSIsForbidden: with CORS off, a browser's preflight
// (which carries no token) is a 403 as docs/security.md says, not a 401
// that suggests a token would help.
func TestPreflightWithoutCORSIsForbidden(t *testing.T) {
	s := startServer(t, nil)
	req, err := http.NewRequest("OPTIONS", s.at.API+"/resource-definitions", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "https://ui.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := (&http.Client{Transport: withoutToken}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" ||
		!strings.Contains(string(body), "--cors-origin") {
		t.Errorf("preflight with CORS off: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}
