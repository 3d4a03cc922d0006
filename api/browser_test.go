package api

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBrowserSafe sends requests as browsers and other clients do through
// the policy of a server on 127.0.0.1:8080, and checks which reach the API.
func TestBrowserSafe(t *testing.T) {
	policy := BrowserPolicy{LoopbackOnly: true, CORSOrigins: []string{"https://ui.example:8443"}}
	cases := []struct {
		name    string
		method  string
		host    string
		headers map[string]string
		body    string
		tls     bool
		want    int // the status; 201 means the request reached the API
	}{
		{"json", "POST", "127.0.0.1:8080", map[string]string{"Content-Type": "application/json"}, "{}", false, 201},
		{"json with charset", "POST", "localhost:8080", map[string]string{"Content-Type": "Application/JSON; charset=utf-8"}, "{}", false, 201},
		{"merge patch", "PATCH", "localhost:8080", map[string]string{"Content-Type": "application/merge-patch+json"}, "{}", false, 201},
		{"no content type", "POST", "127.0.0.1:8080", nil, "{}", false, 201},
		// Conveyor CI's Go client labels every request as JSON, bodiless ones too.
		{"JSON label without a body", "DELETE", "localhost:8080", map[string]string{"Content-Type": "application/json"}, "", false, 201},
		{"JSON label on a read", "GET", "localhost:8080", map[string]string{"Content-Type": "application/json"}, "", false, 201},
		{"text/plain", "POST", "127.0.0.1:8080", map[string]string{"Content-Type": "text/plain"}, "{}", false, 415},
		{"form", "POST", "127.0.0.1:8080", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "{}", false, 415},
		{"multipart", "PUT", "127.0.0.1:8080", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, "{}", false, 415},
		{"empty form on a write", "POST", "127.0.0.1:8080", map[string]string{"Content-Type": "text/plain"}, "", false, 415},
		{"read with a label and no body", "GET", "127.0.0.1:8080", map[string]string{"Content-Type": "text/plain"}, "", false, 201},
		{"same origin", "POST", "127.0.0.1:8080", map[string]string{"Origin": "http://127.0.0.1:8080", "Content-Type": "application/json"}, "{}", false, 201},
		{"same origin, default port", "DELETE", "localhost", map[string]string{"Origin": "http://LOCALHOST:80"}, "", false, 201},
		{"same origin over TLS", "POST", "localhost:8443", map[string]string{"Origin": "https://localhost:8443"}, "{}", true, 201},
		{"other scheme", "POST", "localhost:8443", map[string]string{"Origin": "http://localhost:8443"}, "{}", true, 403},
		{"cross origin", "POST", "127.0.0.1:8080", map[string]string{"Origin": "https://evil.example", "Content-Type": "application/json"}, "{}", false, 403},
		{"cross origin, other port", "PUT", "127.0.0.1:8080", map[string]string{"Origin": "http://127.0.0.1:3000"}, "{}", false, 403},
		{"opaque origin", "DELETE", "127.0.0.1:8080", map[string]string{"Origin": "null"}, "", false, 403},
		{"cross origin read", "GET", "127.0.0.1:8080", map[string]string{"Origin": "https://evil.example"}, "", false, 201},
		{"allowed CORS origin", "POST", "127.0.0.1:8080", map[string]string{"Origin": "https://ui.example:8443", "Content-Type": "application/json"}, "{}", false, 201},
		{"rebinding", "GET", "evil.example:8080", nil, "", false, 403},
		{"rebinding write", "POST", "evil.example", map[string]string{"Content-Type": "application/json"}, "{}", false, 403},
		{"loopback v6", "GET", "[::1]:8080", nil, "", false, 201},
		{"loopback 127/8", "GET", "127.1.2.3", nil, "", false, 201},
		{"not loopback", "GET", "10.0.0.1:8080", nil, "", false, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reached := false
			h := browserSafe(policy, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached = true
				w.WriteHeader(http.StatusCreated)
			}))
			r := httptest.NewRequest(c.method, "http://"+c.host+"/resources", strings.NewReader(c.body))
			r.Host = c.host
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.want {
				t.Fatalf("status %d, want %d: %s", w.Code, c.want, w.Body)
			}
			if reached != (c.want == http.StatusCreated) {
				t.Errorf("reached the API: %v", reached)
			}
			if c.want != http.StatusCreated {
				assertProblem(t, w, c.want)
			}
		})
	}
}

// assertProblem checks an RFC 9457 answer with a detail.
func assertProblem(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	var p struct {
		Status int
		Detail string
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != status || p.Detail == "" {
		t.Errorf("problem %s (%v)", w.Body, err)
	}
	if status == http.StatusUnsupportedMediaType && !strings.Contains(p.Detail, "Content-Type: application/json") {
		t.Errorf("detail does not say what to send: %s", p.Detail)
	}
}

// TestLoopbackOff: a server bound elsewhere answers any Host.
func TestLoopbackOff(t *testing.T) {
	h := browserSafe(BrowserPolicy{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest("GET", "http://conveyor.example/health", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("status %d", w.Code)
	}
}

func TestCORSPreflight(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("a preflight reached the API") })
	preflight := func(policy BrowserPolicy, o string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("OPTIONS", "http://127.0.0.1:8080/resources", nil)
		r.Header.Set("Origin", o)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "content-type")
		w := httptest.NewRecorder()
		browserSafe(policy, next).ServeHTTP(w, r)
		return w
	}
	on := BrowserPolicy{CORSOrigins: []string{"https://ui.example", "http://localhost:3000"}}
	w := preflight(on, "https://ui.example")
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "https://ui.example" ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("allowed origin: %d %v", w.Code, w.Header())
	}
	w = preflight(on, "https://evil.example")
	if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin: %d %v", w.Code, w.Header())
	}
	// CORS off: no CORS header for anyone, and the preflight is a 403
	// that never reaches authentication.
	w = preflight(BrowserPolicy{}, "https://ui.example")
	if w.Code != http.StatusForbidden || len(w.Header().Values("Access-Control-Allow-Origin")) > 0 ||
		!strings.Contains(w.Body.String(), "--cors-origin") {
		t.Errorf("CORS off answered %d %v %s", w.Code, w.Header(), w.Body)
	}
}

func TestBrowserPolicyValidate(t *testing.T) {
	good := BrowserPolicy{CORSOrigins: []string{"https://ui.example", "http://localhost:3000", "http://[::1]:3000"}}
	if err := good.Validate(); err != nil {
		t.Errorf("%v", err)
	}
	for _, o := range []string{"*", "null", "ui.example", "https://ui.example/path", "ftp://ui.example", "https://u:p@ui.example"} {
		if err := (BrowserPolicy{CORSOrigins: []string{o}}).Validate(); err == nil {
			t.Errorf("%q accepted", o)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:8080": true, "localhost.": true, "127.0.0.1": true, "127.9.9.9:1": true,
		"[::1]:8080": true, "::1": true, "": false, ":8080": false, "0.0.0.0:8080": false, "[::]:8080": false,
		"10.0.0.1": false, "evil.example:8080": false, "localhost.evil.example": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
