package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	wire "github.com/conveyor/conveyor/sdk/protocol"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestLabelledWorkIsItsDriversAlone: with NATS credentials required, a
// process of exec labelled gpu takes its labelled work, and once it stopped
// the next waits, counted as exec's pending work; the credentials of
// another driver, whatever labels its connection declares, and even a name
// that claims to be exec's, are refused exec's consumer of gpu; exec's own
// credentials reach it only from a connection that declares gpu.
func TestLabelledWorkIsItsDriversAlone(t *testing.T) {
	s := startServer(t, nil)
	if !s.cfg.NATSAuth {
		t.Fatal("the test needs NATS credentials required")
	}
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "work", "schema": map[string]any{"type": "object"}})
	root := t.TempDir()
	driver, exited := startExecDriver(t, s, "--resources", "work", "--workspace-root", root, "--labels", "gpu")
	runID := execRun(s, "train", labelledStep("train", "gpu"))
	if run := s.waitRun(runID); run["status"] != "succeeded" {
		t.Fatalf("the labelled step under credentials: %v %v", run["status"], run["steps"])
	}
	interruptDriver(t, driver.Process, exited, 10*time.Second)
	// Work waits for a gpu process again, in the consumer the stopped one
	// left.
	waiting := execRun(s, "train-again", labelledStep("train", "gpu"))
	s.waitStep(waiting, "train", "dispatched")
	// GET /drivers counts it as the driver's pending work.
	waitDriver(t, s, "exec", func(d map[string]any) bool { return d["pending"] == float64(1) })

	target := wire.ConsumerName("exec", "gpu")
	for _, tc := range []struct {
		what, driver, name string
		allowed            bool
	}{
		{"another driver declaring gpu", "other", wire.ConnectionName("other", []string{"gpu"}), false},
		{"another driver named as exec", "other", wire.ConnectionName("exec", []string{"gpu"}), false},
		{"exec declaring no labels", "exec", wire.ConnectionName("exec", nil), false},
		{"exec declaring gpu", "exec", wire.ConnectionName("exec", []string{"gpu"}), true},
	} {
		t.Run(tc.what, func(t *testing.T) {
			violations := make(chan error, 8)
			nc, err := nats.Connect(driverNATS(t, s.at, tc.driver), nats.Name(tc.name), nats.CustomInboxPrefix(wire.DriverInbox(tc.driver)),
				nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, infoErr := js.Consumer(ctx, wire.MessagesStream, target)
			if tc.allowed {
				if infoErr != nil {
					t.Errorf("exec's own consumer of gpu: %v", infoErr)
				}
				return
			}
			if infoErr == nil {
				t.Errorf("the consumer %s was readable", target)
			}
			next := "$JS.API.CONSUMER.MSG.NEXT." + wire.MessagesStream + "." + target
			if err := nc.PublishRequest(next, nc.NewRespInbox(), []byte(`{"batch":1,"expires":1000000000}`)); err != nil {
				t.Fatal(err)
			}
			_ = nc.Flush()
			refused := 0
			for deadline := time.After(5 * time.Second); refused < 2; {
				select {
				case err := <-violations:
					if !errors.Is(err, nats.ErrPermissionViolation) && !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
						t.Errorf("unexpected error: %v", err)
					}
					refused++
				case <-deadline:
					t.Fatalf("%d of 2 requests to %s refused", refused, target)
				}
			}
		})
	}
	if st := runStep(s.must(http.StatusOK, "GET", "/runs/"+waiting, nil), "train"); st["status"] != "dispatched" {
		t.Errorf("the labelled work was taken: %v", st)
	}
}
