package sdk_test

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/natsserver"
	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/sdk"
)

// waitForLog waits until b holds want.
func waitForLog(t *testing.T, b *embedtest.LogBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the driver never logged %q; it logged:\n%s", want, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDriverLogsItsConnection: a driver logs when it connects to NATS,
// loses the connection (the server stops) and regains it (the server is
// back on the same address).
func TestDriverLogsItsConnection(t *testing.T) {
	dir := t.TempDir()
	first := embedtest.NATS(t, dir)
	u, err := url.Parse(first.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	_, js := embedtest.JetStream(t, first)
	if err := protocol.EnsureStreams(context.Background(), js, protocol.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	logs := &embedtest.LogBuffer{}
	d := sdk.NewDriver("watcher", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result { return sdk.Result{Success: true} })
	m, err := sdk.NewManager(d, sdk.WithNATSURL(first.ClientURL()), sdk.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
		}
	})

	waitForLog(t, logs, `msg="connected to NATS" driver=watcher`)
	first.Close()
	waitForLog(t, logs, `msg="lost the connection to NATS; reconnecting" driver=watcher`)
	select {
	case err := <-done:
		t.Fatalf("the manager returned when NATS went away: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	second, err := natsserver.Start(sctx, natsserver.Config{Listen: u.Host, StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.Close)
	waitForLog(t, logs, `msg="reconnected to NATS" driver=watcher`)
}
