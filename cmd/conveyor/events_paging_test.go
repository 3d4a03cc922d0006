package main

import (
	"fmt"
	"net/http"
	"testing"
)

// TestEventsHonourContinue: /events pages with ?continue= as every list
// does, to the same page as ?after=; a token it never gave is a 422.
func TestEventsHonourContinue(t *testing.T) {
	s := startServer(t, nil)
	for i := range 3 {
		s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": fmt.Sprintf("kind-%d", i), "schema": map[string]any{}})
	}
	first := s.must(http.StatusOK, "GET", "/events?limit=2", nil)
	token, _ := first["continue"].(string)
	if token == "" || token != fmt.Sprint(first["next"]) {
		t.Fatalf("first page: continue %q, next %v", token, first["next"])
	}
	second := s.must(http.StatusOK, "GET", "/events?limit=2&continue="+token, nil)
	byAfter := s.must(http.StatusOK, "GET", "/events?limit=2&after="+token, nil)
	items, _ := second["items"].([]any)
	if len(items) == 0 || fmt.Sprint(second) != fmt.Sprint(byAfter) {
		t.Fatalf("continue=%s: %v\nafter=%s: %v", token, second, token, byAfter)
	}
	if seq := items[0].(map[string]any)["sequence"]; fmt.Sprint(seq) == "1" {
		t.Errorf("continue=%s started again from sequence 1", token)
	}
	for _, bad := range []string{"continue=abc", "continue=0", "continue=" + token + "&after=1"} {
		if status, problem := s.call("GET", "/events?"+bad, nil); status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %v, want 422", bad, status, problem)
		}
	}
}
