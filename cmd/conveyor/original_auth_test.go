package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestOriginalDriversWithCredentials: drivers that make their consumers as
// the original runtime does, with their own credentials in the URL as
// `conveyor drivers credentials --original` prints them, run a two-step
// pipeline on a server that requires NATS credentials (the default).
func TestOriginalDriversWithCredentials(t *testing.T) {
	s := startServer(t, nil)
	runTwoSteps(t, s, true, func(driver string) string { return originalNATS(t, s.at, driver) })
}

// TestOriginalDriverReachesOnlyItsOwn: with the compiler's credentials of
// the original runtime, no consumer but its own, filtered on its own work,
// can be made; no stream, no other consumer and no event can be read; a
// result it publishes counts as the compiler's, so one in the uploader's
// name is refused; and revoking its token closes its connection.
func TestOriginalDriverReachesOnlyItsOwn(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "upload", "driver": "uploader"}}})
	nc, js, _ := connectAs(t, originalNATS(t, s.at, "compiler"), "compiler")
	heard := make(chan string, 100)
	everything, err := nc.Subscribe(">", func(m *nats.Msg) { heard <- m.Subject })
	if err != nil {
		t.Fatal(err)
	}
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	before := s.settle()
	select {
	case subject := <-heard:
		t.Errorf("the driver's connection heard %s of the server's", subject)
	default:
	}
	// Itself a responder on every subject, it would get no answers.
	if err := everything.Unsubscribe(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	work := []string{"resources.build", "drivers.compiler.resources.build"}
	// Another name reaches nothing; its own name reaches the server, which
	// refuses filters on anything but its work, as JetStream would.
	const unreachable, refused = "no responders", "code=403"
	for _, c := range []struct {
		what, want string
		config     jetstream.ConsumerConfig
	}{
		{"another driver's name", unreachable, jetstream.ConsumerConfig{Name: "uploader", FilterSubjects: work}},
		{"another driver's work", refused, jetstream.ConsumerConfig{Name: "compiler", FilterSubjects: []string{"drivers.uploader.resources.build"}}},
		{"its work and another's", refused, jetstream.ConsumerConfig{Name: "compiler", FilterSubjects: append(work, "drivers.uploader.resources.build")}},
		{"the events", refused, jetstream.ConsumerConfig{Name: "compiler", FilterSubjects: []string{"events.>"}}},
		{"every subject", refused, jetstream.ConsumerConfig{Name: "compiler"}},
	} {
		if _, err := js.CreateOrUpdateConsumer(ctx, "messages", c.config); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("a consumer on %s: %v, want %s", c.what, err, c.want)
		}
	}
	push, _ := json.Marshal(map[string]any{"stream_name": "messages", "config": map[string]any{"name": "compiler",
		"filter_subjects": work, "deliver_subject": "pipelines.driver.result.uploader", "ack_policy": "none"}})
	if answer, err := nc.Request("$JS.API.CONSUMER.CREATE.messages.compiler", push, 5*time.Second); err != nil ||
		!strings.Contains(string(answer.Data), "deliver_subject not allowed") {
		t.Errorf("a pushed consumer delivering into the server's account: %v %v", answerText(answer), err)
	}
	for _, stream := range []string{"CONVEYOR_EVENTS", "messages", "pipeline-engine"} {
		if _, err := js.Stream(ctx, stream); !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("the stream %s read: %v, want no responders", stream, err)
		}
		if err := js.DeleteStream(ctx, stream); err == nil {
			t.Errorf("the stream %s was deleted", stream)
		}
	}
	if _, err := js.Consumer(ctx, "messages", "uploader"); err == nil {
		t.Error("the uploader's consumer can be read")
	}
	if _, err := nc.Request("$JS.API.CONSUMER.MSG.NEXT.messages.uploader", []byte(`{"batch":1}`), time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("a pull from the uploader's consumer: %v, want no responders", err)
	}
	if _, err := js.Publish(ctx, "drivers.uploader.resources.build", []byte(`{}`)); err == nil {
		t.Error("work for the uploader was published")
	}
	if _, err := js.Publish(ctx, "pipelines.driver.result.uploader", forgedResult(runID, "uploader")); err == nil {
		t.Error("a result on the uploader's subject was published")
	}
	s.unchanged(before, "after the attempts")

	// A result in the uploader's name, and one for the uploader's step in
	// its own: stored as the compiler's, refused and parked.
	for _, driver := range []string{"uploader", "compiler"} {
		if _, err := js.Publish(ctx, "pipelines.driver.result", forgedResult(runID, driver)); err != nil {
			t.Fatalf("publish of a result: %v", err)
		}
	}
	waitFor(t, "both results parked", func() bool {
		_, parked := s.call("GET", "/admin/parked", nil)
		items, _ := parked["items"].([]any)
		return len(items) == 2
	})
	_, parked := s.call("GET", "/admin/parked", nil)
	for _, item := range parked["items"].([]any) {
		if reason := fmt.Sprint(item.(map[string]any)["error"]); !strings.HasPrefix(reason, "driver compiler sent a result") {
			t.Errorf("a result parked as not the compiler's: %s", reason)
		}
	}
	if run := s.must(http.StatusOK, "GET", "/runs/"+runID, nil); run["status"] != "running" ||
		run["steps"].([]any)[0].(map[string]any)["status"] != "dispatched" {
		t.Errorf("the run changed: %v", run)
	}

	s.must(http.StatusOK, "DELETE", "/tokens/compiler", nil)
	waitFor(t, "the revoked driver's connection closed", func() bool { return nc.Status() != nats.CONNECTED })
}

// forgedResult is a successful result of the run's step upload in driver's
// name.
func forgedResult(runID, driver string) []byte {
	b, _ := json.Marshal(map[string]any{"event": "driver.result", "run_id": runID, "step": "upload", "resource": map[string]any{},
		"driverresult": map[string]any{"success": true, "message": "forged", "driver": driver}})
	return b
}

func answerText(m *nats.Msg) string {
	if m == nil {
		return ""
	}
	return string(m.Data)
}
