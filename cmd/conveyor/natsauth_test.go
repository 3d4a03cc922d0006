package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/sdk"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// asDriver connects to the server's NATS as driver name would, with its own
// credentials, and collects the permission violations the server reports.
func asDriver(t *testing.T, s *testServer, name string) (*nats.Conn, jetstream.JetStream, func() []string) {
	t.Helper()
	return connectAs(t, driverNATS(t, s.at, name), name)
}

// connectAs connects to NATS at natsURL (with the credentials in it) as driver
// name would, on its own inbox prefix, and collects the errors the server
// reports, permission violations among them.
func connectAs(t *testing.T, natsURL, name string) (*nats.Conn, jetstream.JetStream, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var violations []string
	nc, err := nats.Connect(natsURL, nats.CustomInboxPrefix("_INBOX."+name),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			mu.Lock()
			violations = append(violations, err.Error())
			mu.Unlock()
		}))
	if err != nil {
		t.Fatalf("connect as driver %s: %v", name, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js, func() []string {
		_ = nc.Flush()
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), violations...)
	}
}

// TestNATSRefusesWhoHasNoDriverOrAdminToken: an anonymous client, a wrong
// token, a viewer's token and a revoked driver's token are refused at
// connect; a revoked driver's open connection is closed.
func TestNATSRefusesWhoHasNoDriverOrAdminToken(t *testing.T) {
	s := startServer(t, nil)
	if nc, err := nats.Connect(s.at.NATS); err == nil {
		nc.Close()
		t.Error("an anonymous client connected")
	}
	if nc, err := nats.Connect(s.at.NATS, nats.Token("cvy_not-a-token")); err == nil {
		nc.Close()
		t.Error("a made-up token connected")
	}
	viewer := s.must(http.StatusCreated, "POST", "/tokens", map[string]any{"name": "reader", "role": "viewer"})["token"].(string)
	if nc, err := nats.Connect(s.at.NATS, nats.Token(viewer)); err == nil {
		nc.Close()
		t.Error("a viewer's token connected")
	}
	nc, _, _ := asDriver(t, s, "compiler")
	s.must(http.StatusOK, "DELETE", "/tokens/compiler", nil)
	deadline := time.Now().Add(5 * time.Second)
	for !nc.IsClosed() && nc.Status() == nats.CONNECTED && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if nc.Status() == nats.CONNECTED {
		t.Error("a revoked driver's connection is still connected after 5s")
	}
	if nc, err := nats.Connect(driverNATS(t, s.at, "compiler")); err == nil {
		nc.Close()
		t.Error("a revoked driver's token connected")
	}
}

// TestDriverIdentityCannotForgeOrSteal: driver uploader cannot pass a result
// off as the compiler's (refused, parked, the run unchanged), cannot publish
// work for the compiler (the real compiler never gets it), cannot delete or
// purge streams, and cannot make a consumer on the compiler's work.
func TestDriverIdentityCannotForgeOrSteal(t *testing.T) {
	s := startServer(t, nil)
	var mu sync.Mutex
	var got []sdk.Request
	hold := make(chan struct{})
	runDriver(t, s, "compiler", func(ctx context.Context, req sdk.Request) sdk.Result {
		mu.Lock()
		got = append(got, req)
		mu.Unlock()
		<-hold // hold the work: the step stays dispatched
		return sdk.Result{Success: false}
	})
	t.Cleanup(func() { close(hold) })
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	waitFor(t, "the compiler gets its step", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	_, js, violations := asDriver(t, s, "uploader")
	before := s.settle()

	forge := func(driver string) []byte {
		b, _ := json.Marshal(map[string]any{"event": "driver.result", "run_id": runID, "step": "compile", "resource": map[string]any{},
			"driverresult": map[string]any{"success": true, "message": "forged", "driver": driver, "data": map[string]any{"artifact": "evil.tar.gz"}}})
		return b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// On its own subject, in the compiler's name and in its own: refused.
	for _, driver := range []string{"compiler", "uploader"} {
		if _, err := js.Publish(ctx, "pipelines.driver.result.uploader", forge(driver)); err != nil {
			t.Fatalf("publish on its own result subject: %v", err)
		}
	}
	waitFor(t, "both forged results parked", func() bool {
		_, parked := s.call("GET", "/admin/parked", nil)
		items, _ := parked["items"].([]any)
		return len(items) == 2
	})
	// On the compiler's subject or the bare one: not even published.
	short, cancelShort := context.WithTimeout(context.Background(), time.Second)
	defer cancelShort()
	for _, subject := range []string{"pipelines.driver.result.compiler", "pipelines.driver.result"} {
		if _, err := js.Publish(short, subject, forge("compiler")); err == nil {
			t.Errorf("publish on %s succeeded", subject)
		}
	}
	// Work for the compiler, skipping the API.
	work, _ := json.Marshal(map[string]any{"event": "create", "payload": `{"name":"evil","resource":"build","spec":{"command":"id"}}`, "id": "evil", "run_id": runID})
	if _, err := js.Publish(short, "drivers.compiler.resources.build", work); err == nil {
		t.Error("publish of work for the compiler succeeded")
	}
	s.unchanged(before, "after the forgeries")
	if run := s.must(http.StatusOK, "GET", "/runs/"+runID, nil); run["status"] != "running" ||
		run["steps"].([]any)[0].(map[string]any)["status"] != "dispatched" {
		t.Errorf("the run changed: %v", run)
	}
	// Administration of streams and consumers.
	for _, stream := range []string{"CONVEYOR_EVENTS", "messages"} {
		if err := js.DeleteStream(short, stream); err == nil {
			t.Errorf("delete of stream %s succeeded", stream)
		}
		if st, err := js.Stream(short, stream); err == nil {
			if err := st.Purge(short); err == nil {
				t.Errorf("purge of stream %s succeeded", stream)
			}
		}
	}
	if _, err := js.CreateOrUpdateConsumer(short, "messages", jetstream.ConsumerConfig{Durable: "spy",
		FilterSubject: "drivers.compiler.>", AckPolicy: jetstream.AckExplicitPolicy}); err == nil {
		t.Error("a consumer on the compiler's work was made")
	}
	if len(violations()) == 0 {
		t.Error("the server reported no permission violation")
	}
	s.unchanged(before, "after the stream administration")
	msgs, err := s.js.Stream(context.Background(), "messages")
	if err != nil {
		t.Fatalf("the messages stream is gone: %v", err)
	}
	if info, err := msgs.Info(context.Background(), jetstream.WithSubjectFilter("drivers.compiler.>")); err != nil || info.State.Msgs != 1 {
		t.Errorf("messages for the compiler: %v (%v); want its one step", info.State.Msgs, err)
	}
	time.Sleep(200 * time.Millisecond) // forged work, had it been stored, would have reached it by now
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || strings.Contains(got[0].Resource.Name, "evil") {
		t.Errorf("the compiler got %d pieces of work: %+v", len(got), got)
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
