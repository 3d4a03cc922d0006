package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUnchangedApplyWritesNothing: applying a definition or a pipeline as
// it already is appends no event, keeps its version and says so in
// Conveyor-Unchanged; a real change is stored as before. Member order and
// spacing of a schema do not make a change.
func TestUnchangedApplyWritesNothing(t *testing.T) {
	s := startServer(t, nil)
	apply := func(path, body string) (int, http.Header, string) {
		t.Helper()
		resp, err := http.Post(s.at.API+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(answer)
	}
	def := `{"name":"build","version":"1.0.0","schema":{"type":"object","properties":{"ref":{"type":"string"}}}}`
	same := `{"schema":{"properties":{"ref":{"type":"string"}},"type":"object"},"version":"1.0.0","name":"build"}`
	pipe := `{"name":"ci","resource":"build","steps":[{"id":"a","driver":"x"},{"id":"b","driver":"y","needs":[]}]}`
	if code, h, body := apply("/resource-definitions/apply", def); code != http.StatusOK || h.Get("Conveyor-Unchanged") != "" {
		t.Fatalf("first apply: %d %q %s", code, h.Get("Conveyor-Unchanged"), body)
	}
	apply("/pipelines/apply", pipe)
	before := s.settle()
	if code, h, body := apply("/resource-definitions/apply", same); code != http.StatusOK || h.Get("Conveyor-Unchanged") != "true" {
		t.Errorf("the same definition again: %d %q %s", code, h.Get("Conveyor-Unchanged"), body)
	}
	if code, h, body := apply("/pipelines/apply", pipe); code != http.StatusOK || h.Get("Conveyor-Unchanged") != "true" || !strings.Contains(body, `"version":"1"`) {
		t.Errorf("the same pipeline again: %d %q %s", code, h.Get("Conveyor-Unchanged"), body)
	}
	s.unchanged(before, "unchanged applies")
	changed := strings.Replace(pipe, `"needs":[]`, `"needs":["a"]`, 1)
	if code, h, body := apply("/pipelines/apply", changed); code != http.StatusOK || h.Get("Conveyor-Unchanged") != "" || !strings.Contains(body, `"version":"2"`) {
		t.Errorf("a changed pipeline: %d %q %s", code, h.Get("Conveyor-Unchanged"), body)
	}
}
