package sdk_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/natsserver"
	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/sdk"
)

// syncBuffer is a log sink safe for the manager's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) waitFor(t *testing.T, want string) {
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
	logs := &syncBuffer{}
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

	logs.waitFor(t, `msg="connected to NATS" driver=watcher`)
	first.Close()
	logs.waitFor(t, `msg="lost the connection to NATS; reconnecting" driver=watcher`)
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
	logs.waitFor(t, `msg="reconnected to NATS" driver=watcher`)
}
