package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSecondServerOnDataDirFailsFast: a second server on the data directory
// of a running one exits at once naming the first's process, instead of
// waiting forever on the embedded etcd's lock. (It takes about 0.1 s; the
// bound below leaves room for a loaded machine.)
func TestSecondServerOnDataDirFailsFast(t *testing.T) {
	dir := t.TempDir()
	first := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", dir)
	cmd := exec.Command(conveyorBinary(t), "server", "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", dir)
	done := make(chan []byte, 1)
	go func() {
		out, _ := cmd.CombinedOutput()
		done <- out
	}()
	select {
	case out := <-done:
		want := fmt.Sprintf("in use by process %d", first.cmd.Process.Pid)
		if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), want) {
			t.Errorf("exit %d, output:\n%s\nwant %q", cmd.ProcessState.ExitCode(), out, want)
		}
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the second server still runs after five seconds")
	}
	if status, _, body := send(t, "GET", first.at.API+"/ready", nil); status != 200 {
		t.Errorf("the first server after the attempt: %d %v", status, body)
	}
}
