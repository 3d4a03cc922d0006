package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/adapters/secrets"
	"github.com/nats-io/nats.go"
)

// TestDriversAreAnsweredAsSoonAsTheServerIsReady: a driver started the
// moment the server says it is ready asks for its consumer and its secrets
// at once; both requests are answered, not met by "no responders" (the
// responders once subscribed after the ready line, and a driver that came
// too early fell back to what it does with no server to ask).
func TestDriversAreAnsweredAsSoonAsTheServerIsReady(t *testing.T) {
	cfg := serverConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "127.0.0.1:0",
		EtcdPrefix: "/conveyor", Replicas: 1, MaxBody: 1 << 20, LogLevel: "error"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type answers struct {
		consumer, secrets []byte
		err               error
	}
	got := make(chan answers, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(at endpoints) {
			// Asked in the ready callback itself: nothing of the server's
			// start-up can run in between.
			var a answers
			defer func() { got <- a }()
			nc, err := nats.Connect(at.NATS)
			if err != nil {
				a.err = err
				return
			}
			defer nc.Close()
			m, err := nc.Request(protocol.ConsumerRequestSubject("early"), []byte(`{"resources":["build"]}`), 5*time.Second)
			if err != nil {
				a.err = err
				return
			}
			a.consumer = m.Data
			m, err = nc.Request(secrets.RequestSubject+".early", []byte(`{"run_id":"r","step":"s","attempt":1}`), 5*time.Second)
			if err != nil {
				a.err = err
				return
			}
			a.secrets = m.Data
		})
	}()
	var a answers
	select {
	case a = <-got:
	case err := <-done:
		t.Fatalf("server stopped before it was ready: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("server not ready after 60s")
	}
	if a.err != nil {
		t.Fatalf("a driver asking right at the ready line: %v", a.err)
	}
	var reply protocol.ConsumerReply
	if err := json.Unmarshal(a.consumer, &reply); err != nil || !reply.OK {
		t.Errorf("consumer request answered %s (%v), want ok", a.consumer, err)
	}
	var refusal struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(a.secrets, &refusal); err != nil || refusal.Error == "" {
		t.Errorf("secrets request for a run that does not exist answered %s (%v), want a refusal", a.secrets, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("server stopped with: %v", err)
	}
}
