package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rawConn is one client connection to the API, for tests that must know
// which connection a request travels on.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dialAPI(t *testing.T, api string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(api, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, r: bufio.NewReader(c)}
}

// health sends GET /health on the connection, keeping it alive, and
// returns the answer's status; 0 if the connection ended first.
func (c *rawConn) health(t *testing.T) int {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// closedWithin reports whether the server closes the connection within d.
func (c *rawConn) closedWithin(d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := c.r.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// TestIdleConnectionIsClosed: a keep-alive connection left idle is closed
// by the server after the idle timeout.
func TestIdleConnectionIsClosed(t *testing.T) {
	s := startServer(t, func(c *serverConfig) { c.IdleTimeout = time.Second })
	c := dialAPI(t, s.at.API)
	if status := c.health(t); status != http.StatusOK {
		t.Fatalf("GET /health: %d", status)
	}
	if !c.closedWithin(20 * time.Second) {
		t.Error("an idle connection is still open 20s after an idle timeout of 1s")
	}
}

// TestConnectionLimit: with a limit of 4, four idle connections are
// served, further ones are answered 503 and closed, the server stays up,
// and a new connection is served once one of the four closes.
func TestConnectionLimit(t *testing.T) {
	s := startServer(t, func(c *serverConfig) { c.MaxConnections = 4 })
	var idle []*rawConn
	for i := range 4 {
		c := dialAPI(t, s.at.API)
		if status := c.health(t); status != http.StatusOK {
			t.Fatalf("connection %d: %d", i, status)
		}
		idle = append(idle, c)
	}
	for i := range 6 {
		c := dialAPI(t, s.at.API)
		if status := c.health(t); status != http.StatusServiceUnavailable {
			t.Errorf("connection %d over the limit: %d, want 503", i, status)
		}
		if !c.closedWithin(20 * time.Second) {
			t.Errorf("connection %d over the limit stays open after its 503", i)
		}
	}
	idle[0].Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		status := dialAPI(t, s.at.API).health(t)
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new connection served within 20s of one closing: %d", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, c := range idle[1:] {
		if status := c.health(t); status != http.StatusOK {
			t.Errorf("idle connection %d after the others: %d", i+1, status)
		}
	}
}

// TestFewDescriptors runs the binary with 256 descriptors and opens 400
// connections to it: the API takes as many as the limit derived from the
// descriptors allows and answers the others 503; the server neither dies
// nor stays silent, and serves again once they close.
func TestFewDescriptors(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `ulimit -n 256 && exec "$0" server --addr 127.0.0.1:0 --nats-listen 127.0.0.1:0 --data-dir "$1"`,
		conveyorBinary(t), dir)
	p := startProcess(t, cmd, tokenFileOf([]string{"--data-dir", dir}, nil))
	counts := map[int]int{}
	var conns []*rawConn
	for range 400 {
		c := dialAPI(t, p.at.API)
		conns = append(conns, c)
		counts[c.health(t)]++
	}
	t.Logf("answers: %v", counts)
	if counts[http.StatusOK] == 0 || counts[http.StatusServiceUnavailable] == 0 || counts[http.StatusOK]+counts[http.StatusServiceUnavailable] != 400 {
		t.Errorf("answers %v, want 200s up to the limit and 503s after it", counts)
	}
	select {
	case err := <-p.done:
		t.Fatalf("the server exited: %v\n%s", err, p.output())
	default:
	}
	if !strings.Contains(p.output(), "API connections at the limit") {
		t.Errorf("the server did not say it refused connections:\n%s", p.output())
	}
	for _, c := range conns {
		c.Close()
	}
	s := p.client(t, "/conveyor")
	s.must(http.StatusOK, "GET", "/health", nil)
	s.must(http.StatusOK, "GET", "/ready", nil)
	p.stop(t)
	if strings.Contains(p.output(), "level=ERROR") {
		t.Errorf("errors in the log:\n%s", p.output())
	}
}

// TestSignalDuringStartUp sends SIGTERM at moments of start-up: the
// server exits promptly with 0 or 1 and says why, never hangs. A signal
// that comes before main has installed its handler ends the process as
// signals do (the Go runtime has not yet been told otherwise): also
// prompt, without a word.
func TestSignalDuringStartUp(t *testing.T) {
	for _, after := range []string{"the process started", "the data directory exists", "etcd's directory exists"} {
		t.Run(after, func(t *testing.T) {
			dir := t.TempDir() + "/data"
			cmd := exec.Command(conveyorBinary(t), "server", "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", dir)
			var out strings.Builder
			cmd.Stderr = &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			// Wait for the moment, by what the server has made on disk.
			path := map[string]string{"the data directory exists": dir, "etcd's directory exists": dir + "/etcd"}[after]
			for deadline := time.Now().Add(30 * time.Second); path != "" && !exists(path); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%s never existed", path)
				}
			}
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				code := cmd.ProcessState.ExitCode()
				if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM && path == "" {
					t.Logf("ended by SIGTERM before main ran")
					return
				}
				if code != 0 && code != 1 {
					t.Errorf("exit %v, want status 0 or 1\n%s", err, out.String())
				}
				if !strings.Contains(out.String(), "msg=") {
					t.Errorf("exited without a word:\n%s", out.String())
				}
				t.Logf("exit %d:\n%s", code, out.String())
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("still running 15s after SIGTERM\n%s", out.String())
			}
		})
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
