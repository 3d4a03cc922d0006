package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestClusterScheduleFiresOncePerTick: three replicas on one NATS and one
// etcd each run a scheduler, with no leader; a trigger that ticks every
// second fires each tick once whichever replicas fire it: one TriggerFired
// per tick, one version of the tick's resource, one run.
func TestClusterScheduleFiresOncePerTick(t *testing.T) {
	natsURL, etcd := clusterEnv(t)
	c := newCluster(t, natsURL, etcd)
	replicas := []*process{c.start(), c.start(), c.start()}
	c.setUp(replicas)
	s := c.api(replicas[0])
	trigger := "ticks-" + strings.TrimPrefix(c.definition, "build-")
	s.must(http.StatusOK, "PUT", "/triggers/"+trigger, secondTicks(c.definition, c.pipeline))
	deleted := false
	t.Cleanup(func() { // the log outlives the test: later replicas must not fire it
		if !deleted {
			s.call("DELETE", "/triggers/"+trigger, nil)
		}
	})
	time.Sleep(5 * time.Second)
	s.must(http.StatusNoContent, "DELETE", "/triggers/"+trigger, nil)
	deleted = true
	time.Sleep(1500 * time.Millisecond) // a tick under way when it was deleted is written
	n := checkTicks(s, c.definition, trigger, 3)
	t.Logf("%d ticks fired, each once, by three replicas", n)
}
