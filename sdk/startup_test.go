package sdk_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/natsserver"
	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/sdk"
)

// A driver started while no server answers (before it, or while it
// restarts) waits for it, then takes its work: it does not exit.
func TestDriverStartedBeforeTheServerWaitsForIt(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	logs := &embedtest.LogBuffer{}
	seen := make(chan sdk.Request, 1)
	m, err := sdk.NewManager(sdk.NewDriver("compiler", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		seen <- req
		return sdk.Result{Success: true}
	}), sdk.WithNATSURL("nats://"+addr), sdk.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	ended := false // done was read: Run returned
	defer func() {
		cancel()
		if ended {
			return
		}
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}()

	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "connecting to NATS failed; trying again") {
		select {
		case err := <-done:
			ended = true
			t.Fatalf("the driver gave up while no server answered: %v\n%s", err, logs)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no attempt to connect logged:\n%s", logs)
		}
	}

	srv, err := natsserver.Start(context.Background(), natsserver.Config{Listen: addr, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	_, js := embedtest.JetStream(t, srv)
	if err := protocol.EnsureStreams(context.Background(), js, protocol.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	publishWork(t, js, "drivers.compiler.resources.build", "run-1", "compile", sdk.Resource{Name: "app-1", Type: "build"})
	select {
	case req := <-seen:
		if req.RunID != "run-1" || req.Step != "compile" {
			t.Errorf("request %+v", req)
		}
	case err := <-done:
		ended = true
		t.Fatalf("the driver stopped: %v\n%s", err, logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("no work reached the driver once the server was up:\n%s", logs)
	}
}
