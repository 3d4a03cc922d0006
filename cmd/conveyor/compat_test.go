package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
)

// Drivers that make their consumers as the original runtime does (named,
// not durable, DeliverAll) are stopped until their consumers have expired
// and started again: they get the work published while they were down, and
// nothing of the work they had done.
func TestOriginalDriversRestartedRunNothingAgain(t *testing.T) {
	s := startServer(t, openNATS)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	start := func() (compiler, uploader *plainDriver, stop func()) {
		compiler = &plainDriver{name: "compiler", succeed: true, original: true}
		uploader = &plainDriver{name: "uploader", succeed: true, original: true}
		stopC, stopU := compiler.run(ctx, t, s.at.NATS), uploader.run(ctx, t, s.at.NATS)
		return compiler, uploader, func() { stopC(); stopU() }
	}
	first, _, stop := start()
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "compile", "driver": "compiler"}, {"id": "upload", "driver": "uploader"}}})
	for _, name := range []string{"app-1", "app-2"} {
		runID := s.must(http.StatusCreated, "POST", "/resources", buildResource(name, "abc"))["runid"].(string)
		if run := s.waitRun(runID); run["status"] != "succeeded" {
			t.Fatalf("run of %s ended %v", name, run["status"])
		}
	}
	if got := names(first); len(got) != 2 {
		t.Fatalf("before the restart the compiler ran %v, want app-1 and app-2", got)
	}

	stop()
	for _, name := range []string{"compiler", "uploader"} {
		waitConsumerGone(t, s.js, name)
	}
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-3", "abc"))["runid"].(string)
	compiler, uploader, _ := start()
	if run := s.waitRun(runID); run["status"] != "succeeded" {
		t.Fatalf("the run published while the drivers were down ended %v", run["status"])
	}
	time.Sleep(500 * time.Millisecond) // room for work that should not come
	for _, d := range []*plainDriver{compiler, uploader} {
		if diff := cmp.Diff([]string{"app-3"}, names(d)); diff != "" {
			t.Errorf("%s after its restart ran (-want +got):\n%s", d.name, diff)
		}
	}
}

// names are the resources a driver was handed, in order.
func names(d *plainDriver) []string {
	seen, _ := d.received()
	var out []string
	for _, r := range seen {
		out = append(out, fmt.Sprint(r["name"]))
	}
	return out
}

// waitConsumerGone waits until the server has removed the consumer of a
// driver that stopped.
func waitConsumerGone(t *testing.T, js jetstream.JetStream, name string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		_, err := js.Consumer(context.Background(), "messages", name)
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("consumer %s still there 20 s after its driver stopped", name)
}

// replace sends PUT /resources/{type}/{name} and returns the answer, which
// is the resource itself, and the run the replace started (its
// Conveyor-Run-Id header).
func (s *testServer) replace(path string, body any, headers ...string) (resource map[string]any, runID string) {
	s.t.Helper()
	status, h, raw := s.send("PUT", path, "", body, append([]string{"Content-Type", "application/json"}, headers...)...)
	if status != http.StatusOK {
		s.t.Fatalf("PUT %s: status %d, want 200: %s", path, status, raw)
	}
	if err := json.Unmarshal([]byte(raw), &resource); err != nil {
		s.t.Fatalf("PUT %s: answer is not a JSON object: %v\n%s", path, err, raw)
	}
	return resource, h.Get("Conveyor-Run-Id")
}

// The original client decodes a replace's answer as a Resource, whose
// `resource` is the type's name: the answer is the resource as stored, and
// what clients of this project need more rides in the headers.
func TestReplaceAnswersTheResourceItself(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "compile", "driver": "compiler"}}})
	s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))
	status, h, raw := s.send("PUT", "/resources/build/app-1", "", buildResource("app-1", "def"), "Content-Type", "application/json")
	if status != http.StatusOK {
		t.Fatalf("PUT: %d %s", status, raw)
	}
	var original struct { // the original client's Resource
		ID       string            `json:"id"`
		Name     string            `json:"name"`
		Resource string            `json:"resource"`
		Pipeline string            `json:"pipeline"`
		Metadata map[string]string `json:"metadata"`
		Spec     map[string]any    `json:"spec"`
	}
	if err := json.Unmarshal([]byte(raw), &original); err != nil {
		t.Fatalf("the original client cannot decode the answer: %v\n%s", err, raw)
	}
	if original.ID == "" || original.Name != "app-1" || original.Resource != "build" || original.Metadata["version"] != "2" || original.Spec["ref"] != "def" {
		t.Errorf("answer %+v", original)
	}
	if h.Get("ETag") != `"2"` || h.Get("Conveyor-Run-Id") == "" {
		t.Errorf("ETag %q, Conveyor-Run-Id %q; want \"2\" and the run", h.Get("ETag"), h.Get("Conveyor-Run-Id"))
	}
}

// The original accepts pipeline steps without an id: each gets its
// driver's name, made unique.
func TestStepsWithoutIDAreAccepted(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"driver": "compiler"}, {"name": "Again", "driver": "compiler"}}})
	var got []string
	for _, step := range s.must(http.StatusOK, "GET", "/pipelines/ci", nil)["steps"].([]any) {
		got = append(got, fmt.Sprint(step.(map[string]any)["id"]))
	}
	if diff := cmp.Diff([]string{"compiler", "compiler-2"}, got); diff != "" {
		t.Errorf("step ids (-want +got):\n%s", diff)
	}
}
