package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/conveyor/conveyor/sdk"
)

// stepOfRun is the step id of a run as GET /runs/{id} answers it.
func stepOfRun(run map[string]any, id string) map[string]any {
	steps, _ := run["steps"].([]any)
	for _, s := range steps {
		if m, _ := s.(map[string]any); m["id"] == id {
			return m
		}
	}
	return nil
}

// releaseResource is a resource of pipeline in env.
func releaseResource(name, pipeline, env string) map[string]any {
	return map[string]any{"name": name, "resource": "build", "pipeline": pipeline,
		"spec": map[string]any{"repo": "https://example.com/app.git", "ref": "main", "env": env}}
}

// TestStepConcurrencyGroupEndToEnd: six runs of a pipeline build → deploy
// whose deploy step alone names the concurrency group "deploy-" +
// resource.spec.env, limit 1, created one after another without waiting
// (behind a first whose deploy holds the group). Every build runs at once;
// the deploys wait, each reading as a queued step of a running run, with
// its message and its place in the queue; an SDK driver that notes when
// each deploy starts and ends sees no two overlap, in the order the
// resources were made; all six runs succeed. A step's concurrency the
// server cannot take is a 422 naming the step's field.
func TestStepConcurrencyGroupEndToEnd(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	for field, concurrency := range map[string]map[string]any{
		"steps[1].concurrency.group":  {"group": `"deploy-" + `},
		"steps[1].concurrency.limit":  {"group": `"deploy"`, "limit": 0},
		"steps[1].concurrency.onFull": {"group": `"deploy"`, "onFull": "drop"},
	} {
		status, body := s.call("POST", "/pipelines", map[string]any{"name": "bad", "resource": "build",
			"steps": []map[string]any{{"id": "build", "driver": "builder"}, {"id": "deploy", "driver": "deployer", "concurrency": concurrency}}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(body), field) {
			t.Errorf("concurrency %v: %d %v, want a 422 naming %s", concurrency, status, body, field)
		}
	}
	if status, _ := s.call("GET", "/pipelines/bad", nil); status != http.StatusNotFound {
		t.Errorf("a refused pipeline was written: GET answers %d", status)
	}
	group := map[string]any{"group": `"deploy-" + resource.spec.env`, "limit": 1}
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "release", "resource": "build",
		"steps": []map[string]any{{"id": "build", "driver": "builder"},
			{"id": "deploy", "driver": "deployer", "needs": []string{"build"}, "concurrency": group}}})
	p := s.must(http.StatusOK, "GET", "/pipelines/release", nil)
	if c, _ := stepOfPipeline(p, "deploy")["concurrency"].(map[string]any); c["group"] != group["group"] {
		t.Fatalf("the pipeline reads back %v", p)
	}

	var built atomic.Int32
	runDriver(t, s, "builder", func(context.Context, sdk.Request) sdk.Result { built.Add(1); return sdk.Result{Success: true} })
	tr := newTurns("app-00")
	runDriver(t, s, "deployer", tr.reconcile)

	var names, runs []string
	for i := range 6 {
		name := fmt.Sprintf("app-%02d", i)
		names = append(names, name)
		runs = append(runs, s.must(http.StatusCreated, "POST", "/resources", releaseResource(name, "release", "staging"))["runid"].(string))
		if i == 0 { // the first's deploy holds the group: the others queue
			waitFor(t, "the first deploy dispatched", func() bool {
				_, run := s.call("GET", "/runs/"+runs[0], nil)
				return stepOfRun(run, "deploy")["status"] == "dispatched"
			})
		}
	}
	waitFor(t, "five deploys queued, each in its place", func() bool {
		for i, id := range runs[1:] {
			_, run := s.call("GET", "/runs/"+id, nil)
			c, _ := stepOfRun(run, "deploy")["concurrency"].(map[string]any)
			if c["queuedPosition"] != float64(i+1) {
				return false
			}
		}
		return true
	})
	if n := built.Load(); n != 6 {
		t.Errorf("%d builds ran while the first deploy held the group, want all 6", n)
	}
	run := s.must(http.StatusOK, "GET", "/runs/"+runs[3], nil)
	deploy := stepOfRun(run, "deploy")
	c, _ := deploy["concurrency"].(map[string]any)
	if run["status"] != "running" || deploy["status"] != "queued" || c["group"] != "deploy-staging" ||
		deploy["reason"] != `waits for a place in concurrency group "deploy-staging" (limit 1)` {
		t.Errorf("the fourth run reads %v, its deploy %v", run["status"], deploy)
	}
	close(tr.hold)

	for i, id := range runs {
		if got := s.waitRun(id); got["status"] != "succeeded" {
			t.Errorf("run of %s: %v (%v)", names[i], got["status"], got["message"])
		}
	}
	tr.check(t, names)
}

// TestStepConcurrencyGroupSkip: onFull skip. While one run's deploy holds
// the group, another run's deploy is skipped, saying why, and so is the
// step that needs it; that run ends succeeded, as when a condition is
// false; the first deploys.
func TestStepConcurrencyGroupSkip(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "release", "resource": "build",
		"steps": []map[string]any{
			{"id": "deploy", "driver": "deployer", "concurrency": map[string]any{"group": `"deploy-" + resource.spec.env`, "onFull": "skip"}},
			{"id": "notify", "driver": "notifier"}}})
	tr := newTurns("app-00")
	runDriver(t, s, "deployer", tr.reconcile)
	runDriver(t, s, "notifier", func(context.Context, sdk.Request) sdk.Result { return sdk.Result{Success: true} })
	first := s.must(http.StatusCreated, "POST", "/resources", releaseResource("app-00", "release", "prod"))["runid"].(string)
	waitFor(t, "the first deploy dispatched", func() bool {
		_, run := s.call("GET", "/runs/"+first, nil)
		return stepOfRun(run, "deploy")["status"] == "dispatched"
	})
	second := s.must(http.StatusCreated, "POST", "/resources", releaseResource("app-01", "release", "prod"))["runid"].(string)
	got := s.waitRun(second)
	deploy, notify := stepOfRun(got, "deploy"), stepOfRun(got, "notify")
	if got["status"] != "succeeded" || deploy["status"] != "skipped" ||
		deploy["reason"] != `skipped: concurrency group "deploy-prod" is full (limit 1, onFull skip)` ||
		notify["status"] != "skipped" || notify["reason"] != "needs step deploy, which was skipped" {
		t.Errorf("the second run: %v, deploy %v, notify %v", got["status"], deploy, notify)
	}
	close(tr.hold)
	if got := s.waitRun(first); got["status"] != "succeeded" {
		t.Errorf("the first run: %v (%v)", got["status"], got["message"])
	}
	tr.check(t, []string{"app-00"})
}

// stepOfPipeline is the step id of a pipeline as GET /pipelines/{name}
// answers it.
func stepOfPipeline(p map[string]any, id string) map[string]any {
	return stepOfRun(p, id)
}
