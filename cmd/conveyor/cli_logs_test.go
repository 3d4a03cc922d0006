package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLogsFollowUnknownRun: following a run that does not exist says so at
// once, rather than after the stream's handshake times out.
func TestLogsFollowUnknownRun(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	const id = "00000000-0000-4000-8000-000000000000"
	started := time.Now()
	code, out, errOut := cliRun(t, server, "", "logs", id, "-f")
	took := time.Since(started)
	if want := "conveyor: logs " + id + ": run " + id + " not found\n"; code != 1 || errOut != want || out != "" {
		t.Errorf("logs -f of an unknown run: exit %d, stdout %q, stderr %q; want exit 1, stderr %q", code, out, errOut, want)
	}
	if took > 2*time.Second {
		t.Errorf("logs -f of an unknown run took %v; want an answer at once", took)
	}
	if strings.Contains(errOut, "handshake") {
		t.Errorf("stderr names the stream's handshake: %q", errOut)
	}
}

// TestLogsInterrupted: Ctrl-C while `logs -f` or `apply --wait` follows a
// run exits 130 with one line saying the run goes on, and no error.
func TestLogsInterrupted(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	// No driver named absent ever starts, so the run stays running.
	file := "kind: ResourceDefinition\nname: build\nschema: {type: object}\n---\nkind: Pipeline\nname: ci\nresource: build\nsteps: [{id: a, driver: absent}]\n---\nkind: Resource\nname: x\nresource: build\npipeline: ci\nspec: {}\n"

	apply := cliStart(t, server, file, "apply", "-f", "-", "--wait")
	m := apply.waitStdout(t, regexp.MustCompile(`run ([0-9a-f-]{36})\)`))
	runID := m[1]
	time.Sleep(300 * time.Millisecond) // into WaitRun
	code, out, errOut := apply.interrupt(t)
	if want := "conveyor: stopped following; run " + runID + " goes on\n"; code != exitInterrupted || !strings.HasSuffix(errOut, want) {
		t.Errorf("apply --wait interrupted: exit %d, stderr %q; want exit %d, stderr %q\nstdout:\n%s", code, errOut, exitInterrupted, want, out)
	}

	logs := cliStart(t, server, "", "logs", runID, "-f")
	time.Sleep(time.Second) // past the run check, into the stream
	code, out, errOut = logs.interrupt(t)
	if want := "conveyor: stopped following; run " + runID + " goes on\n"; code != exitInterrupted || !strings.HasSuffix(errOut, want) {
		t.Errorf("logs -f interrupted: exit %d, stderr %q; want exit %d, stderr %q\nstdout:\n%s", code, errOut, exitInterrupted, want, out)
	}

	if code, out, _ := cliRun(t, server, "", "run", runID, "-o", "json"); code != 0 || !strings.Contains(out, `"status": "running"`) {
		t.Errorf("the run after the interrupts: exit %d, want it running\n%s", code, out)
	}
}

// cliProcess is a client command started by cliStart.
type cliProcess struct {
	cmd         *exec.Cmd
	mu          sync.Mutex
	out, errOut bytes.Buffer
}

func (p *cliProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// cliStart starts the conveyor binary as a client of server, as cliRun
// does, without waiting for it.
func cliStart(t *testing.T, server *process, stdin string, args ...string) *cliProcess {
	t.Helper()
	host, port, _ := strings.Cut(strings.TrimPrefix(server.at.API, "http://"), ":")
	p := &cliProcess{cmd: exec.Command(conveyorBinary(t), args...)}
	p.cmd.Env = append(os.Environ(), "CONVEYOR_SERVER_HOST="+host, "CONVEYOR_SERVER_PORT="+port, "CONVEYOR_TOKEN="+server.token)
	p.cmd.Stdin = strings.NewReader(stdin)
	p.cmd.Stdout, p.cmd.Stderr = p, &p.errOut
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	return p
}

// waitStdout waits until stdout matches re and returns the submatches.
func (p *cliProcess) waitStdout(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		p.mu.Lock()
		m := re.FindStringSubmatch(p.out.String())
		p.mu.Unlock()
		if m != nil {
			return m
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Fatalf("stdout never matched %v:\n%s", re, p.out.String())
	return nil
}

// interrupt sends SIGINT, as Ctrl-C does, and returns the exit code, stdout
// and stderr.
func (p *cliProcess) interrupt(t *testing.T) (int, string, string) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%v: still running 5s after SIGINT", p.cmd.Args)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.ProcessState.ExitCode(), p.out.String(), p.errOut.String()
}
