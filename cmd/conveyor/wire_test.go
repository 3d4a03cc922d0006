package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// plainDriver is a driver written with plain nats.go, speaking exactly the
// JSON of docs/protocol.md as Conveyor CI's runtime does: a string payload,
// results on pipelines.driver.result, and no extension fields.
type plainDriver struct {
	name    string
	succeed bool
	// original makes the consumer as the original runtime does: named but
	// not durable, DeliverAll, one message at a time; it vanishes soon after
	// the driver stops (the original's 5 s, shortened here).
	original bool
	mu       sync.Mutex
	seen     []map[string]any // the payload resources it received
	events   []string
}

// run starts the driver; stop stops it (the test's end stops it too).
func (d *plainDriver) run(ctx context.Context, t *testing.T, natsURL string) (stop func()) {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := jetstream.ConsumerConfig{
		Durable: d.name, AckPolicy: jetstream.AckExplicitPolicy,
		FilterSubjects: []string{"resources.build", "drivers." + d.name + ".resources.build"},
	}
	if d.original {
		cfg.Durable, cfg.Name = "", d.name
		cfg.DeliverPolicy, cfg.MaxAckPending, cfg.InactiveThreshold = jetstream.DeliverAllPolicy, 1, time.Second
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "messages", cfg)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		var work struct {
			Event   string `json:"event"`
			Payload string `json:"payload"`
			ID      string `json:"id"`
			RunID   string `json:"run_id"`
		}
		if err := json.Unmarshal(msg.Data(), &work); err != nil {
			t.Errorf("%s: work is not the protocol's JSON: %v", d.name, err)
			return
		}
		var resource map[string]any
		if err := json.Unmarshal([]byte(work.Payload), &resource); err != nil {
			t.Errorf("%s: payload is not a resource JSON string: %v", d.name, err)
			return
		}
		d.mu.Lock()
		d.seen, d.events = append(d.seen, resource), append(d.events, work.Event)
		d.mu.Unlock()
		line, _ := json.Marshal(map[string]any{"runid": work.RunID, "driver": d.name, "pipeline": resource["pipeline"],
			"timestamp": fmt.Sprint(time.Now().Unix()), "message": d.name + " at work"})
		if _, err := js.Publish(ctx, "logs."+work.RunID, line); err != nil {
			t.Errorf("%s: publish log line: %v", d.name, err)
		}
		result, _ := json.Marshal(map[string]any{
			"event": "driver.result", "run_id": work.RunID, "resource": resource,
			"driverresult": map[string]any{"success": d.succeed, "message": d.name + " done", "data": map[string]any{"by": d.name}, "driver": d.name},
		})
		if _, err := js.Publish(ctx, "pipelines.driver.result", result); err != nil {
			t.Errorf("%s: publish result: %v", d.name, err)
			return
		}
		_ = msg.Ack()
	})
	if err != nil {
		t.Fatal(err)
	}
	stop = func() { cc.Stop(); nc.Close() }
	t.Cleanup(stop)
	return stop
}

func (d *plainDriver) received() ([]map[string]any, []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]map[string]any(nil), d.seen...), append([]string(nil), d.events...)
}

// waitRun polls GET /runs/{id} until the run has ended and returns it.
func (s *testServer) waitRun(runID string) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		status, run := s.call("GET", "/runs/"+runID, nil)
		if status == http.StatusOK && run["status"] != "running" && run["status"] != "queued" {
			return run
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, run := s.call("GET", "/runs/"+runID, nil)
	_, parked := s.call("GET", "/admin/parked", nil)
	logs := ""
	if s.proc != nil {
		logs = "\nserver output:\n" + s.proc.output()
	}
	s.t.Fatalf("run %s did not end in 30s: %v\nparked: %v%s", runID, run, parked, logs)
	return nil
}

// openNATS is the open mode drivers of the original runtime need: they make
// their own consumers and publish results on the bare subject.
func openNATS(c *serverConfig) { c.NATSAuth = false }

// TestWireCompatibleDrivers runs a two-step pipeline with drivers that know
// only the wire protocol, on a server in open mode.
func TestWireCompatibleDrivers(t *testing.T) {
	s := startServer(t, openNATS)
	runTwoSteps(t, s, false, func(string) string { return s.at.NATS })
}

// runTwoSteps runs a two-step pipeline, compile then upload, with plain
// drivers (original: made as the original runtime makes them) connecting
// to the NATS URL natsURL gives for their name, and checks that it
// succeeds, each driver's result and log line recorded and the first
// result in the second driver's payload.
func runTwoSteps(t *testing.T, s *testServer, original bool, natsURL func(driver string) string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	compiler := &plainDriver{name: "compiler", succeed: true, original: original}
	uploader := &plainDriver{name: "uploader", succeed: true, original: original}
	compiler.run(ctx, t, natsURL(compiler.name))
	uploader.run(ctx, t, natsURL(uploader.name))

	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	pipeline := map[string]any{"name": "ci", "resource": "build", "metadata": map[string]any{"region": "eu"},
		"steps": []map[string]any{{"id": "compile", "driver": "compiler"}, {"id": "upload", "driver": "uploader"}}}
	s.must(http.StatusCreated, "POST", "/pipelines", pipeline)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)

	run := s.waitRun(runID)
	if run["status"] != "succeeded" {
		t.Fatalf("run ended %v: %v", run["status"], run)
	}
	steps := run["steps"].([]any)
	for i, want := range []string{"compile", "upload"} {
		step := steps[i].(map[string]any)
		if step["id"] != want || step["status"] != "succeeded" || step["attempt"] != float64(1) {
			t.Errorf("step %d: %v", i, step)
		}
	}
	seenC, eventsC := compiler.received()
	seenU, eventsU := uploader.received()
	if len(seenC) != 1 || len(seenU) != 1 || eventsC[0] != "create" || eventsU[0] != "process" {
		t.Fatalf("compiler got %v, uploader got %v; want one create and one process", eventsC, eventsU)
	}
	metaU := seenU[0]["metadata"].(map[string]any)
	if metaU["region"] != "eu" {
		t.Errorf("the pipeline's metadata did not reach the uploader: %v", metaU)
	}
	var compiled map[string]any
	if err := json.Unmarshal([]byte(fmt.Sprint(metaU["driverresults.compiler"])), &compiled); err != nil || compiled["success"] != true {
		t.Errorf("the uploader did not get the compiler's result in its payload: %v (%v)", metaU, err)
	}
	if _, early := seenC[0]["metadata"].(map[string]any)["driverresults.compiler"]; early {
		t.Error("the compiler saw its own result before it ran")
	}
	resource := s.must(http.StatusOK, "GET", "/resources/build/app-1", nil)
	meta := resource["metadata"].(map[string]any)
	for _, driver := range []string{"compiler", "uploader"} {
		if _, ok := meta["driverresults."+driver]; !ok {
			t.Errorf("the resource's metadata lacks driverresults.%s: %v", driver, meta)
		}
	}
	waitFor(t, "both drivers' log lines stored", func() bool {
		_, logs := s.call("GET", "/runs/"+runID+"/logs", nil)
		return strings.Count(fmt.Sprint(logs), " at work") == 2
	})
}

// TestFailedStepStopsTheRun: the first step fails, so the run fails and the
// second driver never receives work.
func TestFailedStepStopsTheRun(t *testing.T) {
	s := startServer(t, openNATS)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	compiler, uploader := &plainDriver{name: "compiler", succeed: false}, &plainDriver{name: "uploader", succeed: true}
	compiler.run(ctx, t, s.at.NATS)
	uploader.run(ctx, t, s.at.NATS)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)

	run := s.waitRun(runID)
	if run["status"] != "failed" {
		t.Fatalf("run ended %v, want failed: %v", run["status"], run)
	}
	steps := run["steps"].([]any)
	if st := steps[0].(map[string]any)["status"]; st != "failed" {
		t.Errorf("step compile is %v, want failed", st)
	}
	if st := steps[1].(map[string]any); st["status"] != "skipped" || st["reason"] != "needs step compile, which failed" {
		t.Errorf("step upload is %v (%v), want skipped because compile failed", st["status"], st["reason"])
	}
	time.Sleep(200 * time.Millisecond) // a wrongly dispatched step would arrive by now
	if seen, _ := uploader.received(); len(seen) != 0 {
		t.Errorf("the uploader received work after a failed step: %v", seen)
	}

	// Retry: the failed step runs again as attempt 2; this compiler always fails.
	retried := s.must(http.StatusOK, "POST", "/runs/"+runID+"/retry", nil)
	if retried["status"] != "running" {
		t.Errorf("retry answered %v", retried["status"])
	}
	run = s.waitRun(runID)
	if st := run["steps"].([]any)[0].(map[string]any); st["attempt"] != float64(2) || run["status"] != "failed" {
		t.Errorf("after retry: %v", run)
	}
	s.must(http.StatusConflict, "POST", "/runs/"+runID+"/cancel", nil)
}

// TestCancelStopsTheRun cancels a run whose first step never answers: it
// ends cancelled, its steps are skipped, and a late result is ignored.
func TestCancelStopsTheRun(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	s.settle()
	run := s.must(http.StatusOK, "POST", "/runs/"+runID+"/cancel", nil)
	if run["status"] != "cancelled" {
		t.Fatalf("cancel answered %v", run["status"])
	}
	for _, st := range run["steps"].([]any) {
		if st.(map[string]any)["status"] != "skipped" {
			t.Errorf("step after cancel: %v", st)
		}
	}
	late, _ := json.Marshal(map[string]any{"event": "driver.result", "run_id": runID, "resource": map[string]any{},
		"driverresult": map[string]any{"success": true, "message": "late", "driver": "compiler"}})
	if _, err := s.js.Publish(context.Background(), "pipelines.driver.result.compiler", late); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ignored bool
		for _, e := range runEvents(t, s.js, runID) {
			if e["type"] == "DriverResultRecorded.v1" && e["ignored"] != nil {
				ignored = true
			}
		}
		if ignored {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the late result was not recorded as ignored")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := s.must(http.StatusOK, "GET", "/runs/"+runID, nil); got["status"] != "cancelled" {
		t.Errorf("after a late result the run is %v", got["status"])
	}
	s.must(http.StatusConflict, "POST", "/runs/"+runID+"/cancel", nil)
	s.must(http.StatusConflict, "POST", "/runs/"+runID+"/retry", nil)
	s.must(http.StatusNotFound, "GET", "/runs/00000000-0000-0000-0000-000000000000", nil)
	s.must(http.StatusNotFound, "POST", "/runs/not-a-run/cancel", nil) // not a UUID: no such run
}
