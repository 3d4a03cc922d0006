package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// conveyorBinary builds the conveyor binary once per test process.
func conveyorBinary(t *testing.T) string { return built(t, ".") }

// process is a conveyor binary running as its own process.
type process struct {
	cmd  *exec.Cmd
	at   endpoints
	logs *strings.Builder
	mu   *sync.Mutex
	done chan error
	// token is the server's admin token ("" with authentication off).
	token string
	// dataDir is its --data-dir, where the embedded etcd's client
	// certificate is.
	dataDir string
}

// startBinary runs `conveyor server args...` and waits for its ready line.
func startBinary(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(conveyorBinary(t), append([]string{"server"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return startProcess(t, cmd, tokenFileOf(args, env))
}

// startProcess starts cmd, a conveyor server, and waits for its ready line;
// tokenFile is where its admin token is.
func startProcess(t *testing.T, cmd *exec.Cmd, tokenFile string) *process {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, logs: &strings.Builder{}, mu: &sync.Mutex{}, done: make(chan error, 1),
		dataDir: flagArg(cmd.Args, cmd.Env, "data-dir")}
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := readyLinePattern.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { p.kill() })
	select {
	case m := <-ready:
		p.at = endpoints{API: m[1], NATS: m[2], Etcd: strings.Split(m[3], ",")}
		p.token = adminToken(t, p.at.API, tokenFile)
		t.Logf("conveyor ready after %v (embedded: %q)", time.Since(started).Round(time.Millisecond), m[4])
	case err := <-p.done:
		t.Fatalf("conveyor exited before ready: %v\n%s", err, p.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("conveyor not ready after 60s\n%s", p.output())
	}
	return p
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// stop sends SIGTERM and waits for a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("conveyor exited with %v after SIGTERM\n%s", err, p.output())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("conveyor did not stop within 30s of SIGTERM\n%s", p.output())
	}
}

func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
	}
}

// client is a testServer view of a process, for its request helpers.
func (p *process) client(t *testing.T, prefix string) *testServer {
	s := &testServer{t: t, at: p.at, cfg: serverConfig{EtcdPrefix: prefix, DataDir: p.dataDir}, proc: p, token: p.token}
	s.connect()
	return s
}

// TestRestartKeepsEverything runs the binary, writes, stops it with SIGTERM,
// starts it again on the same data directory and reads everything back.
func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", dir}
	first := startBinary(t, nil, args...)
	s := first.client(t, "/conveyor")
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))
	s.must(http.StatusOK, "PUT", "/resources/build/app-1", buildResource("app-1", "def"), "If-Match", `"1"`)
	before := s.settle()
	first.stop(t)

	second := startBinary(t, nil, args...)
	s = second.client(t, "/conveyor")
	s.unchanged(before, "restart")
	s.must(http.StatusOK, "GET", "/resource-definitions/build", nil)
	s.must(http.StatusOK, "GET", "/pipelines/ci", nil)
	r := s.must(http.StatusOK, "GET", "/resources/build/app-1", nil)
	if r["metadata"].(map[string]any)["version"] != "2" || r["spec"].(map[string]any)["ref"] != "def" {
		t.Errorf("after restart: %v", r)
	}
	// The log continues where it was: the next write is version 3.
	s.must(http.StatusOK, "PUT", "/resources/build/app-1", buildResource("app-1", "ghi"), "If-Match", `"2"`)
	second.stop(t)
}

// TestEnvironmentConfiguresServer starts the binary configured only by
// CONVEYOR_* variables.
func TestEnvironmentConfiguresServer(t *testing.T) {
	dir := t.TempDir()
	p := startBinary(t, []string{"CONVEYOR_ADDR=127.0.0.1:0", "CONVEYOR_NATS_LISTEN=127.0.0.1:0", "CONVEYOR_DATA_DIR=" + dir})
	p.client(t, "/conveyor").must(http.StatusOK, "GET", "/ready", nil)
	for _, sub := range []string{"nats", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, sub)); err != nil {
			t.Errorf("CONVEYOR_DATA_DIR not used: %v", err)
		}
	}
	p.stop(t)
}
