package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// TestATakenPortNamesItsFlag: a server whose API or NATS address another
// process holds stops at once, naming the address and the flag that
// chooses another; it does not wait for NATS's readiness deadline (10 s).
func TestATakenPortNamesItsFlag(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	for flag, change := range map[string]func(*serverConfig){
		"--addr":        func(c *serverConfig) { c.Addr = addr },
		"--nats-listen": func(c *serverConfig) { c.NATSListen = addr },
	} {
		cfg := serverConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "127.0.0.1:0",
			EtcdPrefix: "/conveyor", Replicas: 1, MaxBody: 1 << 20, LogLevel: "error"}
		change(&cfg)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		start := time.Now()
		err := serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(endpoints) {
			t.Errorf("%s taken: the server said it was ready", flag)
			cancel()
		})
		took := time.Since(start)
		cancel()
		if err == nil || !strings.Contains(err.Error(), addr+" is taken") || !strings.Contains(err.Error(), flag) {
			t.Errorf("%s taken: %v, want an error naming %s and %s", flag, err, addr, flag)
		}
		// Not a timing figure: a wait for the readiness deadline would
		// take 10 s.
		if took > 8*time.Second {
			t.Errorf("%s taken: stopped after %v, want at once", flag, took)
		}
	}
}
