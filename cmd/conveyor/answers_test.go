package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestErrorsAreProblems: what no route serves is a problem+json like every
// other error (404, or 405 with Allow); a run id that is not a UUID is a
// run that does not exist, the same on every run path; no message says
// "not found" twice.
func TestErrorsAreProblems(t *testing.T) {
	s := startServer(t, nil)
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/no-such-path", http.StatusNotFound, ""},
		{"PATCH", "/resources", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"DELETE", "/runs", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"GET", "/runs/not-a-uuid", http.StatusNotFound, ""},
		{"GET", "/runs/not-a-uuid/logs", http.StatusNotFound, ""},
		{"GET", "/runs/not-a-uuid/trace", http.StatusNotFound, ""},
		{"POST", "/runs/not-a-uuid/cancel", http.StatusNotFound, ""},
		{"GET", "/resources/build/nope", http.StatusNotFound, ""},
	} {
		req, _ := http.NewRequest(c.method, s.at.API+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		_, raw := s.callRaw(c.method, c.path, nil)
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/problem+json" ||
			resp.Header.Get("Allow") != c.allow || strings.Count(string(raw), "not found") > 1 {
			t.Errorf("%s %s: %d %q Allow %q %s; want %d, a problem, Allow %q", c.method, c.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), resp.Header.Get("Allow"), raw, c.status, c.allow)
		}
	}
	if _, raw := s.callRaw("GET", "/events?aggregate=../../x", nil); !strings.Contains(string(raw), `"items":[]`) {
		t.Errorf("an empty list: %s", raw)
	}
}

// TestReadyReportsProjectorLag: /ready names the projector's lag, and
// /metrics has it as a gauge, once the read models caught up: 0.
func TestReadyReportsProjectorLag(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.settle()
	ready := s.must(http.StatusOK, "GET", "/ready", nil)
	if checks, _ := ready["checks"].(map[string]any); checks["projector"] != "ok" {
		t.Errorf("ready: %v", ready)
	}
	if _, raw := s.callRaw("GET", "/metrics", nil); !strings.Contains(string(raw), "\nconveyor_projector_lag_events 0\n") {
		t.Errorf("metrics lack conveyor_projector_lag_events 0")
	}
}
