package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/sdk"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// waitDriver waits until GET /drivers/{name} satisfies ok.
func waitDriver(t *testing.T, s *testServer, name string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, d := s.call("GET", "/drivers/"+name, nil)
		if status == http.StatusOK && ok(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("driver %s never got there: %d %v", name, status, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDriversAnnounceThemselves: a driver built on the SDK is listed while
// it runs, with its resource types and its instance, and is no longer
// connected once it stops.
func TestDriversAnnounceThemselves(t *testing.T) {
	s := startServer(t, nil)
	m, err := sdk.NewManager(sdk.NewDriver("compiler", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		return sdk.Result{Success: true}
	}), sdk.WithNATSURL(driverNATS(t, s.at, "compiler")))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	d := waitDriver(t, s, "compiler", func(d map[string]any) bool { return d["connected"] == true })
	instances := d["instances"].([]any)
	if len(instances) != 1 || d["resources"].([]any)[0] != "build" || instances[0].(map[string]any)["id"] == "" {
		t.Errorf("the running driver: %v", d)
	}
	list := s.must(http.StatusOK, "GET", "/drivers", nil)["items"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["name"] != "compiler" {
		t.Errorf("GET /drivers: %v", list)
	}
	cancel()
	<-done
	waitDriver(t, s, "compiler", func(d map[string]any) bool { return d["connected"] == false && len(d["instances"].([]any)) == 0 })
	if status, _ := s.call("GET", "/drivers/nobody", nil); status != http.StatusNotFound {
		t.Errorf("a driver never seen: %d, want 404", status)
	}
}

// TestStepWaitingForAnAbsentDriverSaysSo: a pipeline that names a driver
// never seen is stored with a warning; a driver of the original runtime
// whose consumer exists but which is not running shows its pending work,
// and the run's step says that no instance is connected.
func TestStepWaitingForAnAbsentDriverSaysSo(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	status, body := s.callRaw("POST", "/pipelines", map[string]any{"name": "typo", "resource": "build",
		"steps": []map[string]any{{"id": "a", "driver": "compilr"}}})
	if status != http.StatusCreated {
		t.Fatalf("a pipeline naming an unknown driver: %d %s, want it stored", status, body)
	}
	resp, err := http.Post(s.at.API+"/pipelines/apply", "application/json", strings.NewReader(
		`{"name":"typo","resource":"build","steps":[{"id":"a","driver":"compilr"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if w := resp.Header.Get("Conveyor-Warning"); !strings.Contains(w, `step a: driver "compilr" has never connected`) {
		t.Errorf("Conveyor-Warning %q", w)
	}

	// The original runtime made its consumer once, then stopped.
	if _, err := s.js.CreateOrUpdateConsumer(context.Background(), "messages", jetstream.ConsumerConfig{
		Durable: "offline", FilterSubjects: []string{"resources.build", "drivers.offline.resources.build"}, AckPolicy: jetstream.AckExplicitPolicy,
	}); err != nil {
		t.Fatal(err)
	}
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "a", "driver": "offline"}}})
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	d := waitDriver(t, s, "offline", func(d map[string]any) bool { return d["pending"] == float64(1) })
	if d["connected"] != false || d["resources"].([]any)[0] != "build" {
		t.Errorf("the stopped driver: %v", d)
	}
	run := s.waitStep(runID, "a", "dispatched")
	if w, _ := runStep(run, "a")["waiting"].(string); w != `no instance of driver "offline" is connected` {
		t.Errorf("the waiting step says %q", w)
	}
	runs := s.must(http.StatusOK, "GET", "/runs", nil)["items"].([]any)
	if w := runs[0].(map[string]any)["steps"].([]any)[0].(map[string]any)["waiting"]; w == nil {
		t.Error("GET /runs does not say the step waits for an absent driver")
	}
}

// TestDriverCannotAnnounceAnother: a driver's credentials let it announce
// itself alone.
func TestDriverCannotAnnounceAnother(t *testing.T) {
	s := startServer(t, nil)
	errs := make(chan error, 4)
	nc, err := nats.Connect(driverNATS(t, s.at, "honest"), nats.CustomInboxPrefix("_INBOX.honest"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Publish("conveyor.presence.victim", []byte(`{"driver":"victim","instance":"x","resources":["build"]}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) && !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Errorf("publishing as another driver: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("publishing presence as another driver was not refused")
	}
	if status, _ := s.call("GET", "/drivers/victim", nil); status != http.StatusNotFound {
		t.Errorf("the forged driver is listed: %d", status)
	}
}
