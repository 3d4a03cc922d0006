package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
)

// TestWalkThrough follows the README: a definition, a pipeline, a resource,
// a guarded replace, the version history, and deletes.
func TestWalkThrough(t *testing.T) {
	s := startServer(t, nil)
	def := s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	if def["name"] != "build" || def["id"] == "" || def["version"] != "1.0.0" {
		t.Errorf("definition answer %v", def)
	}
	p := s.must(http.StatusCreated, "POST", "/pipelines/", ciPipeline) // trailing slash accepted
	if p["version"] != "1" || len(p["steps"].([]any)) != 2 {
		t.Errorf("pipeline answer %v", p)
	}

	created := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))
	runID, _ := created["runid"].(string)
	if _, err := uuid.Parse(runID); err != nil {
		t.Fatalf("runid %q is not a UUID: %v", runID, err)
	}
	if created["name"] != "app-1" || created["version"] != float64(1) || created["message"] == "" {
		t.Errorf("create answer %v", created)
	}
	if got := causeOfLastResourceEvent(t, s, "build.app-1"); got != runID {
		t.Errorf("correlation id of ResourceCreated is %q, want the runid %q", got, runID)
	}

	got := s.must(http.StatusOK, "GET", "/resources/build/app-1/", nil)
	if got["resource"] != "build" || got["pipeline"] != "ci" || got["metadata"].(map[string]any)["version"] != "1" {
		t.Errorf("read %v", got)
	}

	replace := buildResource("app-1", "def")
	replace["metadata"] = map[string]any{"team": "web", "version": "1"}
	replaced, secondRun := s.replace("/resources/build/app-1", replace)
	if secondRun == "" || secondRun == runID {
		t.Errorf("replace started run %q (the first was %s)", secondRun, runID)
	}
	meta := replaced["metadata"].(map[string]any)
	if meta["team"] != "web" || meta["version"] != "2" {
		t.Errorf("replaced metadata %v", meta)
	}
	if id := replaced["id"]; id != got["id"] {
		t.Errorf("replace changed the id from %v to %v", got["id"], id)
	}
	v1 := s.must(http.StatusOK, "GET", "/resources/build/app-1/1", nil)
	if v1["spec"].(map[string]any)["ref"] != "abc" {
		t.Errorf("version 1 is %v", v1)
	}
	if items := s.must(http.StatusOK, "GET", "/resources/build/app-1/versions", nil)["items"].([]any); len(items) != 2 {
		t.Errorf("versions: %v", items)
	}

	for _, path := range []string{"/resources?resource=build", "/resources", "/resources/build"} {
		if items := s.must(http.StatusOK, "GET", path, nil)["items"].([]any); len(items) != 1 {
			t.Errorf("GET %s: %d items, want 1", path, len(items))
		}
	}

	s.must(http.StatusNoContent, "DELETE", "/resources/build/app-1", nil)
	s.must(http.StatusNotFound, "GET", "/resources/build/app-1", nil)
	again := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "new"))
	if again["version"] != float64(1) {
		t.Errorf("a re-created resource starts at version %v, want 1", again["version"])
	}
	s.must(http.StatusNoContent, "DELETE", "/resources/build/app-1", nil)
	s.must(http.StatusNoContent, "DELETE", "/pipelines/ci", nil)
	s.must(http.StatusNoContent, "DELETE", "/resource-definitions/build", nil)
	if items := s.must(http.StatusOK, "GET", "/resource-definitions", nil)["items"].([]any); len(items) != 0 {
		t.Errorf("definitions left: %v", items)
	}
}

// causeOfLastResourceEvent reads the last event of a resource's stream.
func causeOfLastResourceEvent(t *testing.T, s *testServer, key string) string {
	t.Helper()
	stream, err := s.js.Stream(context.Background(), "CONVEYOR_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetLastMsgForSubject(context.Background(), "conveyor.events.resource."+key)
	if err != nil {
		t.Fatalf("last event of %s: %v", key, err)
	}
	var e struct {
		Type          string `json:"type"`
		CorrelationID string `json:"correlationId"`
		CausationID   string `json:"causationId"`
	}
	if err := json.Unmarshal(msg.Data, &e); err != nil {
		t.Fatal(err)
	}
	if e.Type != "ResourceCreated.v1" || e.CausationID == "" {
		t.Errorf("last event %+v", e)
	}
	return e.CorrelationID
}

var _ jetstream.JetStream // the harness's view of the log

// TestPagination walks a list page by page: every item once, in order.
func TestPagination(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	const n = 25
	for i := range n {
		r := buildResource(fmt.Sprintf("app-%02d", i), "abc")
		delete(r, "pipeline")
		s.must(http.StatusCreated, "POST", "/resources", r)
	}
	var seen []string
	next := ""
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("pagination does not end")
		}
		page := s.must(http.StatusOK, "GET", "/resources?resource=build&limit=10&continue="+next, nil)
		if items := page["items"].([]any); len(items) > 10 || (len(items) < 10 && page["continue"] != nil) {
			t.Fatalf("page %d holds %d items with limit=10 (continue %v)", pages, len(items), page["continue"])
		}
		for _, item := range page["items"].([]any) {
			seen = append(seen, item.(map[string]any)["name"].(string))
		}
		next, _ = page["continue"].(string)
		if next == "" {
			break
		}
	}
	if len(seen) != n {
		t.Fatalf("saw %d resources, want %d: %v", len(seen), n, seen)
	}
	for i, name := range seen {
		if want := fmt.Sprintf("app-%02d", i); name != want {
			t.Errorf("item %d is %s, want %s", i, name, want)
		}
	}
}

// TestServiceEndpoints checks health, readiness, metrics and the OpenAPI
// document.
func TestServiceEndpoints(t *testing.T) {
	s := startServer(t, nil)
	health := s.must(http.StatusOK, "GET", "/health", nil)
	if health["status"] != "healthy" || health["time"].(float64) < 1e9 {
		t.Errorf("health %v", health)
	}
	ready := s.must(http.StatusOK, "GET", "/ready", nil)
	if checks := ready["checks"].(map[string]any); checks["nats"] != "ok" || checks["etcd"] != "ok" {
		t.Errorf("ready %v", ready)
	}
	spec := s.must(http.StatusOK, "GET", "/openapi.json", nil)
	if spec["openapi"] != "3.1.0" {
		t.Errorf("openapi version %v", spec["openapi"])
	}
	paths := spec["paths"].(map[string]any)
	for _, p := range []string{"/resources", "/resources/{type}/{name}", "/resource-definitions/{name}", "/pipelines", "/health", "/ready"} {
		if _, ok := paths[p]; !ok {
			t.Errorf("openapi.json lacks %s", p)
		}
	}
	status, docs := s.callRaw("GET", "/docs", nil)
	if status != http.StatusOK || !strings.Contains(string(docs), "<html") {
		t.Errorf("docs: %d", status)
	}
	status, metrics := s.callRaw("GET", "/metrics", nil)
	if status != http.StatusOK || !strings.Contains(string(metrics), `conveyor_http_requests_total{code="200",method="GET",route="GET /health"} 1`) {
		t.Errorf("metrics: %d\n%s", status, metrics)
	}
}
