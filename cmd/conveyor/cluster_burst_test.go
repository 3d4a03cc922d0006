package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// createOutcome is what became of one create of the burst.
type createOutcome struct {
	Name     string
	Status   int    // the answer; 0 when no replica answered
	RunID    string // of a 201
	Body     string // of any other answer
	Answered int    // the replica that answered
	Lost     []string
}

// burst sends n creates over a few concurrent clients, round-robin over the
// replicas; once killAfter were answered it kills the victim with SIGKILL.
// A create aimed at a dead replica goes to a live one; one whose connection
// failed before an answer is sent again to the next replica.
func (c *cluster) burst(replicas []*process, n, killAfter, victim int) (out []createOutcome, victimSteps int) {
	out = make([]createOutcome, n)
	dead := make([]atomic.Bool, len(replicas))
	var answered atomic.Int64
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range n {
			next <- i
		}
	}()
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range next {
				out[i] = create(client, replicas, dead, i, c.resource(fmt.Sprintf("app-%03d", i)))
				if answered.Add(1) == int64(killAfter) {
					victimSteps = c.awaitDispatch(client, replicas[victim])
					if err := replicas[victim].cmd.Process.Kill(); err != nil {
						c.t.Errorf("kill replica %d: %v", victim, err)
					}
					dead[victim].Store(true)
				}
			}
		})
	}
	wg.Wait()
	<-replicas[victim].done
	return out, victimSteps
}

// awaitDispatch waits, at most a minute, until replica p's engine has
// dispatched a step's work, and returns how many it has. The burst goes on
// meanwhile; the wait only keeps the victim from being killed before it
// took part.
func (c *cluster) awaitDispatch(client *http.Client, p *process) int {
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := stepsDispatched(client, p)
		if n > 0 || time.Now().After(deadline) {
			if n == 0 {
				c.t.Errorf("the victim's engine dispatched no step within a minute (%v)", err)
			}
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stepsDispatched reads from a replica's /metrics how many steps its engine
// has dispatched.
func stepsDispatched(client *http.Client, p *process) (int, error) {
	resp, err := client.Get(p.at.API + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "conveyor_engine_steps_dispatched_total "); ok {
			n, err := strconv.ParseFloat(v, 64)
			return int(n), err
		}
	}
	return 0, fmt.Errorf("no conveyor_engine_steps_dispatched_total in /metrics (%v)", sc.Err())
}

func (c *cluster) resource(name string) map[string]any {
	return map[string]any{"name": name, "resource": c.definition, "pipeline": c.pipeline,
		"spec": map[string]any{"repo": "https://example.com/app.git", "ref": name}}
}

func create(client *http.Client, replicas []*process, dead []atomic.Bool, i int, resource map[string]any) createOutcome {
	o := createOutcome{Name: resource["name"].(string)}
	body, _ := json.Marshal(resource)
	target := i % len(replicas)
	for range 2 * len(replicas) {
		if dead[target].Load() { // spread the dead replica's share over the others
			var alive []int
			for r := range replicas {
				if !dead[r].Load() {
					alive = append(alive, r)
				}
			}
			target = alive[(i/len(replicas))%len(alive)]
		}
		resp, err := client.Post(replicas[target].at.API+"/resources", "application/json", bytes.NewReader(body))
		if err != nil {
			o.Lost = append(o.Lost, fmt.Sprintf("replica %d: %v", target, err))
			target = (target + 1) % len(replicas)
			continue
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			o.Lost = append(o.Lost, fmt.Sprintf("replica %d: reading the answer: %v", target, err))
			target = (target + 1) % len(replicas)
			continue
		}
		o.Status, o.Answered = resp.StatusCode, target
		var written struct {
			RunID string `json:"runid"`
		}
		if o.Status != http.StatusCreated || json.Unmarshal(raw, &written) != nil || written.RunID == "" {
			o.Body = string(raw)
		}
		o.RunID = written.RunID
		return o
	}
	return o
}

// checkOutcomes fails the test for every create that was not answered 201
// with a Run ID, or 409 after an attempt that got no answer (which may have
// created the resource); it returns the names that should exist.
func checkOutcomes(t *testing.T, outcomes []createOutcome) []string {
	t.Helper()
	var created []string
	for _, o := range outcomes {
		switch {
		case o.Status == http.StatusCreated && o.RunID != "":
		case o.Status == http.StatusConflict && len(o.Lost) > 0:
		default:
			t.Errorf("create %s: status %d from replica %d after %v: %s", o.Name, o.Status, o.Answered, o.Lost, o.Body)
			continue
		}
		created = append(created, o.Name)
	}
	return created
}

func burstSummary(outcomes []createOutcome) string {
	statuses, byReplica, lost := map[int]int{}, map[int]int{}, 0
	for _, o := range outcomes {
		statuses[o.Status]++
		byReplica[o.Answered]++
		lost += len(o.Lost)
	}
	return fmt.Sprintf("statuses %v, answers by replica %v, %d attempts without an answer", statuses, byReplica, lost)
}
