package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

// TestConcurrencyGroupEndToEnd: ten runs of a pipeline whose concurrency
// group has limit 1, created one after another without waiting (behind a
// first that holds the group), through an
// SDK driver that notes when each step starts and ends: no two steps ever
// overlap, all ten succeed, in the order their resources were made. While
// the first holds the group, the nine others read as queued, with their
// positions, in GET /runs/{id} and GET /runs?status=queued. A queued run
// cancelled leaves the queue. A concurrency the server cannot take is a
// 422 naming the field, and nothing is written.
func TestConcurrencyGroupEndToEnd(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	for field, concurrency := range map[string]map[string]any{
		"concurrency.group":  {"group": `"deploy-" + `},
		"concurrency.limit":  {"group": `"deploy"`, "limit": 0},
		"concurrency.onFull": {"group": `"deploy"`, "onFull": "drop"},
	} {
		status, body := s.call("POST", "/pipelines", map[string]any{"name": "bad", "resource": "build", "concurrency": concurrency,
			"steps": []map[string]any{{"id": "ship", "driver": "shipper"}}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(body), field) {
			t.Errorf("concurrency %v: %d %v, want a 422 naming %s", concurrency, status, body, field)
		}
	}
	if status, _ := s.call("GET", "/pipelines/bad", nil); status != http.StatusNotFound {
		t.Errorf("a refused pipeline was written: GET answers %d", status)
	}
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"concurrency": map[string]any{"group": `"deploy-" + resource.spec.ref`, "limit": 1},
		"steps":       []map[string]any{{"id": "ship", "driver": "shipper"}}})

	var mu sync.Mutex
	var spans [][2]time.Time
	var order []string
	hold := make(chan struct{})
	runDriver(t, s, "shipper", func(ctx context.Context, req sdk.Request) sdk.Result {
		start := time.Now()
		if req.Resource.Name == "app-00" {
			<-hold // the first run holds the group until the others queued
		}
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		spans = append(spans, [2]time.Time{start, time.Now()})
		order = append(order, req.Resource.Name)
		return sdk.Result{Success: true}
	})

	var names, runs []string
	for i := range 11 {
		name := fmt.Sprintf("app-%02d", i)
		names = append(names, name)
		runs = append(runs, s.must(http.StatusCreated, "POST", "/resources", buildResource(name, "main"))["runid"].(string))
		if i == 0 { // the first holds the group: the ten others queue
			waitFor(t, "the first run running", func() bool { return s.must(http.StatusOK, "GET", "/runs/"+runs[0], nil)["status"] == "running" })
		}
	}
	// app-05 is cancelled while it waits: ten runs run.
	waitFor(t, "ten runs queued", func() bool {
		_, page := s.call("GET", "/runs?status=queued", nil)
		items, _ := page["items"].([]any)
		return len(items) == 10
	})
	waitFor(t, "each queued run in its group", func() bool { // the read model shows RunQueued before the group
		_, last := s.call("GET", "/runs/"+runs[10], nil)
		c, _ := last["concurrency"].(map[string]any)
		return c["queuedPosition"] == 10.0
	})
	run := s.must(http.StatusOK, "GET", "/runs/"+runs[3], nil)
	if c, _ := run["concurrency"].(map[string]any); run["status"] != "queued" || c["group"] != "deploy-main" || c["queuedPosition"] != 3.0 {
		t.Errorf("the fourth run reads %v %v, want queued at position 3 of deploy-main", run["status"], run["concurrency"])
	}
	s.must(http.StatusOK, "POST", "/runs/"+runs[5]+"/cancel", nil)
	close(hold)

	for i, id := range runs {
		want := "succeeded"
		if i == 5 {
			want = "cancelled"
		}
		if got := s.waitRun(id); got["status"] != want {
			t.Errorf("run of %s: %v (%v), want %s", names[i], got["status"], got["message"], want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := slices.Delete(slices.Clone(names), 5, 6)
	if !slices.Equal(order, want) {
		t.Errorf("the runs ran in the order %v, want %v", order, want)
	}
	for i := 1; i < len(spans); i++ {
		if spans[i][0].Before(spans[i-1][1]) {
			t.Errorf("step %d started at %s, before step %d ended at %s", i, spans[i][0].Format(time.StampMicro), i-1, spans[i-1][1].Format(time.StampMicro))
		}
	}
}
