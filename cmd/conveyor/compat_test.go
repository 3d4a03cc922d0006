package main

import (
	"context"
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
