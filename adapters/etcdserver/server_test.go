package etcdserver

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
)

// lines is a slog destination the test can read while etcd writes to it.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func start(t *testing.T, out *lines) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, Config{Dir: filepath.Join(t.TempDir(), "etcd"), UnsafeNoFsync: true, Logger: slog.New(slog.NewTextHandler(out, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// failed waits for s to report a failure.
func failed(t *testing.T, s *Server) error {
	t.Helper()
	select {
	case err := <-s.Err():
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("no failure reported within 20s")
		return nil
	}
}

// TestFatalErrorIsReportedAndLogged: where etcd logs a fatal error, zap
// would end the process with status 1; here the error reaches the log and
// Err, the process lives on, and Close returns.
func TestFatalErrorIsReportedAndLogged(t *testing.T) {
	out := &lines{}
	s := start(t, out)
	go s.e.GetLogger().Fatal("failed to save raft state", zap.Error(errors.New("too many open files")))
	err := failed(t, s)
	if err == nil || err.Error() != "failed to save raft state: too many open files" {
		t.Errorf("Err delivered %v", err)
	}
	if log := out.String(); !strings.Contains(log, `level=ERROR msg="failed to save raft state" error="too many open files"`) {
		t.Errorf("the fatal error is not in the log:\n%s", log)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(failedCloseWait + 20*time.Second):
		t.Fatal("Close did not return after a fatal error")
	}
}

// TestStoppingOnItsOwnIsReported: etcd stopping without Close is a failure.
func TestStoppingOnItsOwnIsReported(t *testing.T) {
	s := start(t, &lines{})
	s.e.Server.Stop()
	if err := failed(t, s); err == nil || !strings.Contains(err.Error(), "stopped on its own") {
		t.Errorf("Err delivered %v", err)
	}
}

// TestCloseIsNoFailure: an etcd started and closed on purpose reports
// nothing, and logs nothing at info: neither its info lines, nor its start
// notices, nor its listeners closing.
func TestCloseIsNoFailure(t *testing.T) {
	out := &lines{}
	s := start(t, out)
	s.Close()
	select {
	case err := <-s.Err():
		t.Errorf("Close reported %v", err)
	default:
	}
	if out.String() != "" {
		t.Errorf("etcd logged:\n%s", out.String())
	}
}

// A port chosen free but taken before etcd binds it makes Start try
// other ports; a port the caller named that is in use fails at once.
func TestStartTriesOtherPortsWhenAChosenOneIsTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenURL := "https://" + taken.Addr().String()
	var picks atomic.Int32
	pickFreeURL = func() (string, error) {
		if picks.Add(1) == 1 {
			return takenURL, nil // another process got there first
		}
		return freeURL()
	}
	defer func() { pickFreeURL = freeURL }()

	out := &lines{}
	s := start(t, out)
	if n := picks.Load(); n < 4 {
		t.Errorf("%d ports picked: the taken one was not given up", n)
	}
	if s.Endpoints()[0] == takenURL {
		t.Errorf("serves on the taken port %s", takenURL)
	}

	_, err = Start(context.Background(), Config{Dir: filepath.Join(t.TempDir(), "etcd"), UnsafeNoFsync: true, ClientURL: takenURL,
		Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("start on a named port in use: %v, want that it is in use", err)
	}
}
