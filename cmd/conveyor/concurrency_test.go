package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestConcurrentReplacesOneWins races 50 replaces of one resource, all
// expecting version 1: exactly one succeeds, the others get 409, and the
// version history has no gap and no lost update.
func TestConcurrentReplacesOneWins(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "v1"))

	const writers = 50
	statuses := make([]int, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = s.call("PUT", "/resources/build/app-1", buildResource("app-1", fmt.Sprintf("writer-%d", i)), "If-Match", `"1"`)
		}()
	}
	wg.Wait()
	winner, conflicts := -1, 0
	for i, st := range statuses {
		switch st {
		case http.StatusOK:
			if winner >= 0 {
				t.Fatalf("writers %d and %d both succeeded", winner, i)
			}
			winner = i
		case http.StatusConflict:
			conflicts++
		default:
			t.Errorf("writer %d: status %d", i, st)
		}
	}
	if winner < 0 || conflicts != writers-1 {
		t.Fatalf("winner %d, conflicts %d; want one winner and %d conflicts", winner, conflicts, writers-1)
	}
	versions := s.must(http.StatusOK, "GET", "/resources/build/app-1/versions", nil)
	items := versions["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("history has %d versions, want 2: %v", len(items), items)
	}
	for i, item := range items {
		meta := item.(map[string]any)["metadata"].(map[string]any)
		if meta["version"] != fmt.Sprint(i+1) {
			t.Errorf("history[%d] has version %v, want %d", i, meta["version"], i+1)
		}
	}
	latest := items[1].(map[string]any)["spec"].(map[string]any)["ref"]
	if want := fmt.Sprintf("writer-%d", winner); latest != want {
		t.Errorf("version 2 holds ref %v, want the winner's %s", latest, want)
	}
	current := s.must(http.StatusOK, "GET", "/resources/build/app-1", nil)
	if current["metadata"].(map[string]any)["version"] != "2" {
		t.Errorf("current resource is %v, want version 2", current["metadata"])
	}
}
