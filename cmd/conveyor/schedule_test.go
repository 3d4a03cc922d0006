package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// secondTicks is a schedule trigger that ticks every second and writes
// build/{name}-{the tick's stamp}, run by pipeline.
func secondTicks(definition, pipeline string) map[string]any {
	return map[string]any{"source": "schedule", "schedule": "@every 1s", "pipeline": pipeline,
		"resource": map[string]any{"type": definition, "name": `"tick-" + tick_stamp`,
			"spec": map[string]any{"repo": `"https://example.com/app.git"`, "ref": `"main@" + string(tick_unix)`}}}
}

// firedTicks reads the TriggerFired events of trigger from the log through
// s: each delivery id (a tick) with the Run IDs of its events.
func firedTicks(s *testServer, trigger string) map[string][]string {
	s.t.Helper()
	ticks := map[string][]string{}
	for _, e := range s.logEvents("delivery") {
		if e["type"] == "TriggerFired.v1" && e["trigger"] == trigger {
			id, _ := e["delivery"].(string)
			run, _ := e["correlationId"].(string)
			ticks[id] = append(ticks[id], run)
		}
	}
	return ticks
}

// checkTicks fails the test unless each tick of trigger fired once, in a
// run of its own whose resource names the tick, and at least min ticks
// fired; it returns how many did.
func checkTicks(s *testServer, definition, trigger string, min int) int {
	s.t.Helper()
	ticks := firedTicks(s, trigger)
	for id, runs := range ticks {
		if !strings.HasPrefix(id, "schedule:"+trigger+":") || len(runs) != 1 {
			s.t.Errorf("tick %s fired %d times (runs %v), want once", id, len(runs), runs)
			continue
		}
		tick, err := time.Parse(time.RFC3339, strings.TrimPrefix(id, "schedule:"+trigger+":"))
		if err != nil {
			s.t.Errorf("tick %s: %v", id, err)
			continue
		}
		name := "tick-" + tick.Format("20060102-150405")
		res := s.eventually(http.StatusOK, "GET", "/resources/"+definition+"/"+name)
		if meta, _ := res["metadata"].(map[string]any); meta["version"] != "1" {
			s.t.Errorf("tick %s: resource %s %v, want version 1", id, name, res)
		}
		run := s.eventually(http.StatusOK, "GET", "/runs/"+runs[0])
		if r, _ := run["resource"].(map[string]any); r["name"] != name {
			s.t.Errorf("tick %s: run %s of %v, want of %s", id, runs[0], run["resource"], name)
		}
	}
	if len(ticks) < min {
		s.t.Errorf("%d ticks fired, want at least %d: %v", len(ticks), min, ticks)
	}
	return len(ticks)
}

// eventually sends a request until it answers want, for ten seconds at
// most: a read of another replica's write, whose read model may lag.
func (s *testServer) eventually(want int, method, path string) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, out := s.call(method, path, nil)
		if status == want || time.Now().After(deadline) {
			if status != want {
				s.t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, out)
			}
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestScheduleTriggerStartsRuns: a trigger that ticks every second writes
// its resource once per tick, each write starting a run; once deleted it
// fires no more. A schedule that cannot be read, a time zone that does not
// exist, and a secret on a schedule are refused, naming the field.
func TestScheduleTriggerStartsRuns(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	for field, change := range map[string]func(map[string]any){
		"schedule": func(doc map[string]any) { doc["schedule"] = "every second" },
		"timeZone": func(doc map[string]any) { doc["timeZone"] = "Europe/Atlantis" },
		"secret":   func(doc map[string]any) { doc["secret"] = "webhook" },
	} {
		doc := secondTicks("build", "ci")
		change(doc)
		status, out := s.call("PUT", "/triggers/refused", doc)
		if status != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(out["errors"]), "body."+field) {
			t.Errorf("a bad %s: %d %v, want 422 naming body.%s", field, status, out, field)
		}
	}

	saved := s.must(http.StatusOK, "PUT", "/triggers/every-second", secondTicks("build", "ci"))
	if saved["timeZone"] != "UTC" || saved["catchUp"] != "latest" {
		t.Errorf("saved %v, want time zone UTC and catch-up latest by default", saved)
	}
	time.Sleep(3500 * time.Millisecond)
	s.must(http.StatusNoContent, "DELETE", "/triggers/every-second", nil)
	time.Sleep(1500 * time.Millisecond) // a tick under way when it was deleted is written
	n := checkTicks(s, "build", "every-second", 2)
	time.Sleep(1500 * time.Millisecond)
	if again := len(firedTicks(s, "every-second")); again != n {
		t.Errorf("%d ticks fired after the trigger was deleted", again-n)
	}
}
