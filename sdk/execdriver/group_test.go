package execdriver

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGroupEndsEveryMember: a stopped command's child that ignores SIGTERM
// and holds the output open is gone within the grace; a command that exits
// 0 leaving a child behind returns at once that it did, and the child is
// killed.
func TestGroupEndsEveryMember(t *testing.T) {
	const grace = 500 * time.Millisecond
	for _, tc := range []struct {
		name, script string
		stop         bool
	}{
		{"stopped", `trap "" TERM; sleep 3600 & echo "$!" > "$PIDFILE"; wait`, true},
		{"left behind", `sleep 3600 & echo "$!" > "$PIDFILE"; sleep 0.2`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			g := NewGroup(ctx, grace, "sh", "-c", tc.script)
			pidFile := filepath.Join(t.TempDir(), "pid")
			g.Cmd.Env = append(os.Environ(), "PIDFILE="+pidFile)
			g.Cmd.Stdout = io.Discard // a pipe the child holds open
			done := make(chan error, 1)
			var left bool
			go func() {
				var err error
				left, err = g.Run()
				done <- err
			}()
			var child int
			for deadline := time.Now().Add(5 * time.Second); child == 0; time.Sleep(10 * time.Millisecond) {
				pid, _ := os.ReadFile(pidFile)
				child, _ = strconv.Atoi(strings.TrimSpace(string(pid)))
				if time.Now().After(deadline) {
					t.Fatalf("no child pid: %q", pid)
				}
			}
			t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
			start := time.Now()
			if tc.stop {
				cancel()
			}
			select {
			case err := <-done:
				if tc.stop == (err == nil) || left == tc.stop {
					t.Errorf("Run: left running %v, err %v", left, err)
				}
			case <-time.After(grace + 3*time.Second):
				t.Fatal("Run did not return")
			}
			for alive(child) {
				if time.Since(start) > grace+time.Second {
					t.Fatalf("the child %d still runs %v later", child, time.Since(start))
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// alive says whether pid runs: signal 0 reaches it, and it is not a
// zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && syscall.Kill(pid, 0) == nil && !strings.Contains(string(stat), ") Z ")
}
