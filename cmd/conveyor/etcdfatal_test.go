package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fullDisk mounts a small tmpfs at dir, for a test to fill. It skips the
// test where mounting is not permitted (not root, or a container without
// CAP_SYS_ADMIN), saying so.
func fullDisk(t *testing.T, dir string, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (%v: %s): the embedded etcd's fatal error is not provoked here", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
}

// fill takes all the free space of the file system at dir.
func fill(t *testing.T, dir string) {
	t.Helper()
	// etcd may take space meanwhile (it preallocates its next WAL segment
	// in the background): a fill that finds less room than it measured
	// measures again.
	var out []byte
	var err error
	for attempt := range 5 {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			t.Fatal(err)
		}
		free := int64(st.Bavail) * st.Bsize
		if free == 0 {
			return
		}
		filler := filepath.Join(dir, "filler-"+strconv.Itoa(attempt))
		if out, err = exec.Command("fallocate", "-l", strconv.FormatInt(free, 10), filler).CombinedOutput(); err == nil {
			return
		}
		_ = os.Remove(filler)
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("fallocate: %v: %s", err, out)
}

// TestEmbeddedEtcdFatalErrorEndsTheProcessWithAMessage: the embedded etcd's
// disk fills up under the running binary; etcd's fatal error (a commit that
// cannot be written) reaches the log, and the process ends on its own with
// a non-zero status and a last line that names etcd and the cause, instead
// of exiting silently or hanging.
func TestEmbeddedEtcdFatalErrorEndsTheProcessWithAMessage(t *testing.T) {
	dir := t.TempDir()
	etcdDir := filepath.Join(dir, "etcd")
	fullDisk(t, etcdDir, "200m") // etcd preallocates 64 MB WAL segments
	p := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", dir)
	s := p.client(t, "/conveyor")
	fill(t, etcdDir)
	// Writes are accepted into the log; projecting them makes etcd's
	// database grow, and its commit fails.
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "blob", "schema": map[string]any{"type": "object"}})
	spec := strings.Repeat("x", 30000)
	for i := 0; i < 50; i++ {
		body := `{"name":"b` + strconv.Itoa(i) + `","resource":"blob","spec":{"data":"` + spec + `"}}`
		resp, err := http.Post(p.at.API+"/resources", "application/json", strings.NewReader(body))
		if err != nil {
			break // the server is going down
		}
		resp.Body.Close()
	}
	select {
	case err := <-p.done:
		exit, ok := err.(*exec.ExitError)
		if !ok || exit.ExitCode() == 0 {
			t.Fatalf("conveyor exited with %v, want a non-zero status\n%s", err, p.output())
		}
		out := p.output()
		last := out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]
		if !strings.Contains(last, "embedded etcd failed") || !strings.Contains(last, "no space left on device") {
			t.Errorf("the last line does not name etcd and the cause: %s\nall output:\n%s", last, out)
		}
		if !strings.Contains(out, `level=ERROR msg="failed to commit tx" component=etcd`) {
			t.Errorf("etcd's fatal error is not in the log:\n%s", out)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("conveyor still runs 60s after its etcd failed\n%s", p.output())
	}
	if resp, err := http.Get(p.at.API + "/health"); err == nil {
		resp.Body.Close()
		t.Error("the API still answers after the process ended")
	}
}
