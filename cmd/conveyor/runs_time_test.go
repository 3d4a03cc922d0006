package main

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestRunsBetweenTimes: GET /runs?since=&until= keeps the runs started in
// that span, both ends included, newest first, and pages within it.
func TestRunsBetweenTimes(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	for i := range 5 {
		s.must(http.StatusCreated, "POST", "/resources", buildResource(fmt.Sprintf("app-%d", i), "abc"))
		time.Sleep(20 * time.Millisecond)
	}
	var started []string // newest first
	for deadline := time.Now().Add(10 * time.Second); len(started) < 5; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("runs: %v", started)
		}
		items, _ := s.must(http.StatusOK, "GET", "/runs", nil)["items"].([]any)
		started = started[:0]
		for _, it := range items {
			started = append(started, it.(map[string]any)["startedAt"].(string))
		}
	}
	names := func(query string) []string {
		t.Helper()
		var out []string
		for cont := ""; ; {
			page := s.must(http.StatusOK, "GET", "/runs?limit=1&"+query+"&continue="+url.QueryEscape(cont), nil)
			for _, it := range page["items"].([]any) {
				out = append(out, it.(map[string]any)["resource"].(map[string]any)["name"].(string))
			}
			if cont, _ = page["continue"].(string); cont == "" {
				return out
			}
		}
	}
	q := func(k, v string) string { return k + "=" + url.QueryEscape(v) }
	for _, c := range []struct {
		query string
		want  []string
	}{
		{q("since", started[3]) + "&" + q("until", started[1]), []string{"app-3", "app-2", "app-1"}},
		{q("since", started[0]), []string{"app-4"}},
		{q("until", started[4]), []string{"app-0"}},
		{q("since", started[2]) + "&" + q("until", started[2]), []string{"app-2"}},
		{q("since", time.Now().Add(time.Hour).Format(time.RFC3339)), nil},
	} {
		if got := names(c.query); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("GET /runs?%s: %v, want %v", c.query, got, c.want)
		}
	}
	if status, body := s.call("GET", "/runs?since=yesterday", nil); status != http.StatusUnprocessableEntity {
		t.Errorf("since=yesterday: %d %v, want 422", status, body)
	}
}
