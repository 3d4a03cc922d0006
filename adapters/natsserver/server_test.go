package natsserver

import (
	"context"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestShutdownOnItsOwnIsReported: the server shutting down without Close
// (as it does after some fatal errors) is a failure.
func TestShutdownOnItsOwnIsReported(t *testing.T) {
	s := start(t)
	s.ns.Shutdown()
	select {
	case err := <-s.Err():
		if err == nil || !strings.Contains(err.Error(), "shut down on its own") {
			t.Errorf("Err delivered %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no failure reported within 20s")
	}
}

// TestFatalLogIsReported: a fatal error the server logs reaches Err.
func TestFatalLogIsReported(t *testing.T) {
	s := start(t)
	s.ns.Fatalf("Error listening on port: %s", "127.0.0.1:1")
	select {
	case err := <-s.Err():
		if err == nil || err.Error() != "Error listening on port: 127.0.0.1:1" {
			t.Errorf("Err delivered %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no failure reported within 20s")
	}
}

// TestCloseIsNoFailure: a server closed on purpose reports nothing.
func TestCloseIsNoFailure(t *testing.T) {
	s := start(t)
	s.Close()
	select {
	case err := <-s.Err():
		t.Errorf("Close reported %v", err)
	default:
	}
}
