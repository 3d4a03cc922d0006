package main

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestClusterReplicas runs three replicas of the server on one external
// NATS and one etcd. A burst of resource creates goes round-robin to their
// APIs, and one replica is killed with SIGKILL in the middle of it; a
// replacement joins afterwards. Every create answered 201 has its resource
// and a run that succeeds, each resource has exactly one run, each driver
// executed each step of each run exactly once, and the engines of all three
// replicas took part: each dispatched some steps' work (its own count in
// /metrics; the victim is killed only once its count is above zero).
func TestClusterReplicas(t *testing.T) {
	natsURL, etcd := clusterEnv(t)
	const creates, killAfter, victim = 500, 150, 2
	c := newCluster(t, natsURL, etcd)
	replicas := []*process{c.start(), c.start(), c.start()}
	compiler, uploader := c.runDriver(c.compiler), c.runDriver(c.uploader)
	c.setUp(replicas)

	began := time.Now()
	outcomes, victimSteps := c.burst(replicas, creates, killAfter, victim)
	t.Logf("burst of %d creates answered in %v: %s", creates, time.Since(began).Round(time.Millisecond), burstSummary(outcomes))
	created := checkOutcomes(t, outcomes)
	survivors := slices.Delete(slices.Clone(replicas), victim, victim+1)

	// A replacement joins the cluster and serves what the others wrote.
	replacement := c.start()
	c.api(replacement).must(http.StatusOK, "GET", "/resource-definitions/"+c.definition, nil)
	c.api(replacement).must(http.StatusOK, "GET", "/pipelines/"+c.pipeline, nil)

	deadline := time.Now().Add(3 * time.Minute)
	var answered []string
	for _, o := range outcomes {
		if o.Status == http.StatusCreated {
			answered = append(answered, o.RunID)
		}
	}
	for id, run := range c.waitRuns(survivors, answered, deadline) {
		if run["status"] != "succeeded" {
			t.Errorf("run %s (answered 201) ended %v: %v", id, run["status"], run)
		}
	}
	t.Logf("the runs answered 201 ended %v after the burst", time.Since(began).Round(time.Millisecond))

	// Every resource that was created exists, with exactly one run, and the
	// run a 201 named is that run.
	runs := c.resourceRuns(c.api(survivors[0]), created, deadline)
	var all []string
	for _, o := range outcomes {
		ids := runs[o.Name]
		if (o.Status == http.StatusCreated || o.Status == http.StatusConflict) && len(ids) != 1 {
			t.Errorf("resource %s has %d runs, want 1: %v", o.Name, len(ids), ids)
		}
		if o.Status == http.StatusCreated && len(ids) > 0 && !slices.Contains(ids, o.RunID) {
			t.Errorf("resource %s: the 201 named run %s, the read model has %v", o.Name, o.RunID, ids)
		}
		all = append(all, ids...)
	}
	for id, run := range c.waitRuns(survivors, all, deadline) {
		if run["status"] != "succeeded" {
			t.Errorf("run %s ended %v: %v", id, run["status"], run)
		}
	}
	// The replacement reads every run as the survivors do.
	for id, run := range c.waitRuns([]*process{replacement}, all, deadline) {
		if run["status"] != "succeeded" {
			t.Errorf("the replacement reads run %s as %v", id, run["status"])
		}
	}

	// Once the shared consumers have nothing left (the killed replica's
	// unacknowledged events are redelivered after their ack wait), each
	// driver has executed each step of each run once.
	c.waitDrained(deadline)
	compiler.check(t, "compile", all)
	uploader.check(t, "upload", all)
	steps := map[int]int{victim: victimSteps}
	for i, p := range replicas {
		if i == victim {
			continue
		}
		n, err := stepsDispatched(http.DefaultClient, p)
		if err != nil || n == 0 {
			t.Errorf("replica %d's engine dispatched %d steps (%v): the runs did not spread over every replica", i, n, err)
		}
		steps[i] = n
	}
	t.Logf("steps dispatched by each replica's engine (the victim's before it was killed): %v", steps)
	t.Logf("%d resources, %d runs; checked %v after the burst began", len(runs), len(all), time.Since(began).Round(time.Millisecond))
}
