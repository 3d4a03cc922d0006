package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// logEvents is every event of one aggregate ("resource/build/app-1",
// "run/<id>") as GET /events pages them, in log order.
func (s *testServer) logEvents(aggregate string) []map[string]any {
	s.t.Helper()
	var out []map[string]any
	after := 0.0
	for {
		page := s.must(http.StatusOK, "GET", fmt.Sprintf("/events?aggregate=%s&after=%d", aggregate, int64(after)), nil)
		for _, item := range page["items"].([]any) {
			out = append(out, item.(map[string]any))
		}
		next, ok := page["next"].(float64)
		if !ok || next == 0 {
			return out
		}
		after = next
	}
}

// position is the log position of an event of a GET /events page.
func position(e map[string]any) string { return fmt.Sprint(int64(e["sequence"].(float64))) }

// before is the log position just before that of e.
func before(e map[string]any) string { return fmt.Sprint(int64(e["sequence"].(float64)) - 1) }

func specRef(r map[string]any) any { return r["spec"].(map[string]any)["ref"] }

func metadata(r map[string]any) map[string]any { return r["metadata"].(map[string]any) }

// TestTimeTravel reads a resource and a run as they were at earlier log
// positions and times, through the binary: the API and the CLI.
func TestTimeTravel(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	s := server.client(t, "/conveyor")
	startDriver(t, "compiler", server.at)
	startDriver(t, "uploader", server.at)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	first := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	s.waitRun(first)
	_, second := s.replace("/resources/build/app-1", buildResource("app-1", "def"), "If-Match", `"1"`)
	s.waitRun(second)
	s.settle()

	changes := s.logEvents("resource/build/app-1")
	if len(changes) != 2 || changes[0]["type"] != "ResourceCreated.v1" || changes[1]["type"] != "ResourceUpdated.v1" {
		t.Fatalf("events of build/app-1: %v", changes)
	}
	created, replaced := changes[0], changes[1]

	t.Run("resource", func(t *testing.T) {
		v1 := s.must(http.StatusOK, "GET", "/resources/build/app-1?at="+position(created), nil)
		if specRef(v1) != "abc" || metadata(v1)["version"] != "1" {
			t.Errorf("at the create: %v", v1)
		}
		if _, ok := metadata(v1)["driverresults.compiler"]; ok {
			t.Errorf("at the create, before its run, the resource has a driver result: %v", v1)
		}
		byTime := s.must(http.StatusOK, "GET", "/resources/build/app-1?at="+created["time"].(string), nil)
		if diff := cmp.Diff(v1, byTime); diff != "" {
			t.Errorf("at the create's time differs from at its position (-position +time):\n%s", diff)
		}

		v2 := s.must(http.StatusOK, "GET", "/resources/build/app-1?at="+position(replaced), nil)
		if specRef(v2) != "def" || metadata(v2)["version"] != "2" {
			t.Errorf("at the replace: %v", v2)
		}
		// The results of the first run were recorded before the replace;
		// those of the second after it.
		if r, _ := metadata(v2)["driverresults.compiler"].(string); !strings.Contains(r, "compiled app-1-abc") {
			t.Errorf("at the replace, the compiler's result is %q, want the first run's", r)
		}

		now := s.must(http.StatusOK, "GET", "/resources/build/app-1", nil)
		if specRef(now) != "def" || !strings.Contains(metadata(now)["driverresults.compiler"].(string), "compiled app-1-def") {
			t.Errorf("now: %v", now)
		}
		for _, at := range []string{"2999-01-01T00:00:00Z", fmt.Sprint(s.lastSeq() + 100)} {
			later := s.must(http.StatusOK, "GET", "/resources/build/app-1?at="+at, nil)
			if diff := cmp.Diff(now, later); diff != "" {
				t.Errorf("at %s differs from the read model (-now +at):\n%s", at, diff)
			}
		}

		status, missing := s.call("GET", "/resources/build/app-1?at="+before(created), nil)
		if status != http.StatusNotFound || !strings.Contains(fmt.Sprint(missing["detail"]), "did not exist at") {
			t.Errorf("before the create: %d %v", status, missing)
		}
	})

	t.Run("run", func(t *testing.T) {
		events := s.logEvents("run/" + first)
		if len(events) == 0 || events[0]["type"] != "RunStarted.v1" {
			t.Fatalf("events of run %s: %v", first, events)
		}
		started := s.must(http.StatusOK, "GET", "/runs/"+first+"?at="+position(events[0]), nil)
		steps := started["steps"].([]any)
		step0, step1 := steps[0].(map[string]any), steps[1].(map[string]any)
		if started["status"] != "running" || (step0["status"] != "pending" && step0["status"] != "dispatched") || step1["status"] != "pending" {
			t.Errorf("just after RunStarted: %v", started)
		}
		now := s.must(http.StatusOK, "GET", "/runs/"+first, nil)
		if now["status"] != "succeeded" {
			t.Errorf("now: %v", now)
		}
		later := s.must(http.StatusOK, "GET", "/runs/"+first+"?at="+fmt.Sprint(s.lastSeq()), nil)
		if diff := cmp.Diff(now, later); diff != "" {
			t.Errorf("at the end of the log differs from the read model (-now +at):\n%s", diff)
		}
		status, missing := s.call("GET", "/runs/"+first+"?at="+before(events[0]), nil)
		if status != http.StatusNotFound || !strings.Contains(fmt.Sprint(missing["detail"]), "did not exist at") {
			t.Errorf("before RunStarted: %d %v", status, missing)
		}
	})

	t.Run("malformed", func(t *testing.T) {
		for _, path := range []string{"/resources/build/app-1?at=yesterday", "/resources/build/app-1?at=0", "/runs/" + first + "?at=-1"} {
			status, problem := s.call("GET", path, nil)
			detail := fmt.Sprint(problem["detail"])
			if status != http.StatusUnprocessableEntity || !strings.Contains(detail, "RFC 3339") || !strings.Contains(detail, "log position") {
				t.Errorf("GET %s: %d %v", path, status, problem)
			}
		}
	})

	t.Run("created again", func(t *testing.T) {
		s.must(http.StatusNoContent, "DELETE", "/resources/build/app-1", nil)
		again := buildResource("app-1", "ghi")
		delete(again, "pipeline")
		s.must(http.StatusCreated, "POST", "/resources", again)
		now := s.must(http.StatusOK, "GET", "/resources/build/app-1?at=2999-01-01T00:00:00Z", nil)
		if specRef(now) != "ghi" || metadata(now)["version"] != "1" {
			t.Errorf("created again: %v", now)
		}
		if _, ok := metadata(now)["driverresults.compiler"]; ok {
			t.Errorf("the new resource has the old one's driver results: %v", now)
		}
		v2 := s.must(http.StatusOK, "GET", "/resources/build/app-1?at="+position(replaced), nil)
		if specRef(v2) != "def" || metadata(v2)["driverresults.compiler"] == nil {
			t.Errorf("the old resource at its replace: %v", v2)
		}
	})

	t.Run("cli", func(t *testing.T) {
		code, out, errOut := cliRun(t, server, "", "get", "resources", "build/app-1", "--at", position(created), "-o", "json")
		var r map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || specRef(r) != "abc" {
			t.Errorf("get resources build/app-1 --at %s: exit %d\n%s%s", position(created), code, out, errOut)
		}
		events := s.logEvents("run/" + first)
		code, out, errOut = cliRun(t, server, "", "run", first, "--at", position(events[0]), "-o", "json")
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r["status"] != "running" {
			t.Errorf("run %s --at %s: exit %d\n%s%s", first, position(events[0]), code, out, errOut)
		}
		code, _, errOut = cliRun(t, server, "", "get", "resources", "build/app-1", "--at", before(created))
		if code != 1 || !strings.Contains(errOut, "did not exist at") {
			t.Errorf("get before the create: exit %d %s", code, errOut)
		}
		code, _, errOut = cliRun(t, server, "", "get", "resources", "--at", "5")
		if code != 2 || !strings.Contains(errOut, "--at reads one resource") {
			t.Errorf("get resources --at: exit %d %s", code, errOut)
		}
	})
}
