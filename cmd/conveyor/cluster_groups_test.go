package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

// TestClusterConcurrencyGroup: three replicas on one NATS and one etcd,
// ten runs of a pipeline whose concurrency group has limit 1, created
// round-robin through the replicas' APIs one after another (behind a first
// that holds the group): however the replicas' engines share the work and
// race to admit, the driver never runs two at once, and all ten succeed, in
// creation order.
func TestClusterConcurrencyGroup(t *testing.T) {
	natsURL, etcd := clusterEnv(t)
	c := newCluster(t, natsURL, etcd)
	replicas := []*process{c.start(), c.start(), c.start()}
	c.setUp(replicas)
	pipeline := "deploy-" + c.pipeline
	c.api(replicas[0]).must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": pipeline, "resource": c.definition,
		"concurrency": map[string]any{"group": fmt.Sprintf("%q", pipeline), "limit": 1},
		"steps":       []map[string]any{{"id": "ship", "driver": c.compiler}}})
	for _, p := range replicas {
		waitFor(t, "the pipeline on "+p.at.API, func() bool {
			status, _ := c.api(p).call("GET", "/pipelines/"+pipeline, nil)
			return status == http.StatusOK
		})
	}
	tr := newTurns("app-00")
	c.runDriverFunc(c.compiler, tr.reconcile)

	var names, runs []string
	for i := range 10 {
		name := fmt.Sprintf("app-%02d", i)
		names = append(names, name)
		s := c.api(replicas[i%len(replicas)])
		runs = append(runs, s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": name, "resource": c.definition,
			"pipeline": pipeline, "spec": map[string]any{"repo": "https://example.com/app.git", "ref": "main"}})["runid"].(string))
		if i == 0 { // the first holds the group: the nine others queue
			waitFor(t, "the first run running", func() bool { _, run := s.call("GET", "/runs/"+runs[0], nil); return run["status"] == "running" })
		}
	}
	s := c.api(replicas[1])
	waitFor(t, "each queued run in its group", func() bool {
		_, last := s.call("GET", "/runs/"+runs[9], nil)
		conc, _ := last["concurrency"].(map[string]any)
		return conc["queuedPosition"] == 9.0
	})
	close(tr.hold)
	for id, run := range c.waitRuns(replicas, runs, time.Now().Add(60*time.Second)) {
		if run["status"] != "succeeded" {
			t.Errorf("run %s: %v (%v)", id, run["status"], run["message"])
		}
	}
	tr.check(t, names)
}

// TestClusterStepConcurrencyGroup: three replicas on one NATS and one
// etcd, eight runs of a pipeline build → deploy whose deploy step alone
// names a concurrency group of limit 1, created round-robin through the
// replicas' APIs one after another (behind a first whose deploy holds the
// group): the builds run at once, the deploy driver never runs two at
// once, and all eight succeed, the deploys in creation order.
func TestClusterStepConcurrencyGroup(t *testing.T) {
	natsURL, etcd := clusterEnv(t)
	c := newCluster(t, natsURL, etcd)
	replicas := []*process{c.start(), c.start(), c.start()}
	c.setUp(replicas)
	pipeline := "release-" + c.pipeline
	c.api(replicas[0]).must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": pipeline, "resource": c.definition,
		"steps": []map[string]any{{"id": "build", "driver": c.compiler},
			{"id": "deploy", "driver": c.uploader, "needs": []string{"build"},
				"concurrency": map[string]any{"group": fmt.Sprintf("%q", pipeline), "limit": 1}}}})
	for _, p := range replicas {
		waitFor(t, "the pipeline on "+p.at.API, func() bool {
			status, _ := c.api(p).call("GET", "/pipelines/"+pipeline, nil)
			return status == http.StatusOK
		})
	}
	c.runDriverFunc(c.compiler, func(context.Context, sdk.Request) sdk.Result { return sdk.Result{Success: true} })
	tr := newTurns("app-00")
	c.runDriverFunc(c.uploader, tr.reconcile)

	var names, runs []string
	for i := range 8 {
		name := fmt.Sprintf("app-%02d", i)
		names = append(names, name)
		s := c.api(replicas[i%len(replicas)])
		runs = append(runs, s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": name, "resource": c.definition,
			"pipeline": pipeline, "spec": map[string]any{"repo": "https://example.com/app.git", "ref": "main"}})["runid"].(string))
		if i == 0 { // the first's deploy holds the group: the others queue
			waitFor(t, "the first deploy dispatched", func() bool {
				_, run := s.call("GET", "/runs/"+runs[0], nil)
				return stepOfRun(run, "deploy")["status"] == "dispatched"
			})
		}
	}
	s := c.api(replicas[1])
	waitFor(t, "each queued deploy in its group", func() bool {
		for i, id := range runs[1:] {
			_, run := s.call("GET", "/runs/"+id, nil)
			conc, _ := stepOfRun(run, "deploy")["concurrency"].(map[string]any)
			if conc["queuedPosition"] != float64(i+1) {
				return false
			}
		}
		return true
	})
	close(tr.hold)
	for id, run := range c.waitRuns(replicas, runs, time.Now().Add(60*time.Second)) {
		if run["status"] != "succeeded" {
			t.Errorf("run %s: %v (%v)", id, run["status"], run["message"])
		}
	}
	tr.check(t, names)
}
