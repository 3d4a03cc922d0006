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

	tr := newTurns("app-00")
	runDriver(t, s, "shipper", tr.reconcile)

	var names, runs []string
	for i := range 11 {
		name := fmt.Sprintf("app-%02d", i)
		names = append(names, name)
		runs = append(runs, s.must(http.StatusCreated, "POST", "/resources", buildResource(name, "main"))["runid"].(string))
		if i == 0 { // the first holds the group: the ten others queue
			waitFor(t, "the first run running", func() bool { _, run := s.call("GET", "/runs/"+runs[0], nil); return run["status"] == "running" })
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
	close(tr.hold)

	for i, id := range runs {
		want := "succeeded"
		if i == 5 {
			want = "cancelled"
		}
		if got := s.waitRun(id); got["status"] != want {
			t.Errorf("run of %s: %v (%v), want %s", names[i], got["status"], got["message"], want)
		}
	}
	tr.check(t, slices.Delete(slices.Clone(names), 5, 6))
}

// turns is a driver's record of the steps it ran: when each started and
// ended, and of which resource, in order. The step of the resource named
// first waits until hold is closed.
type turns struct {
	mu    sync.Mutex
	spans [][2]time.Time
	order []string
	first string
	hold  chan struct{}
}

func newTurns(first string) *turns { return &turns{first: first, hold: make(chan struct{})} }

func (tr *turns) reconcile(_ context.Context, req sdk.Request) sdk.Result {
	start := time.Now()
	if req.Resource.Name == tr.first {
		<-tr.hold
	}
	time.Sleep(20 * time.Millisecond)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.spans = append(tr.spans, [2]time.Time{start, time.Now()})
	tr.order = append(tr.order, req.Resource.Name)
	return sdk.Result{Success: true}
}

// check asserts that the steps ran for the resources named, in that order,
// and that none started before the one before it ended.
func (tr *turns) check(t *testing.T, want []string) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !slices.Equal(tr.order, want) {
		t.Errorf("the runs ran in the order %v, want %v", tr.order, want)
	}
	for i := 1; i < len(tr.spans); i++ {
		if tr.spans[i][0].Before(tr.spans[i-1][1]) {
			t.Errorf("step %d started at %s, before step %d ended at %s", i, tr.spans[i][0].Format(time.StampMicro), i-1, tr.spans[i-1][1].Format(time.StampMicro))
		}
	}
}
