package execdriver

import (
	"context"
	"errors"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"
)

// Group is a command that runs in a process group of its own, so that what
// it starts can be ended with it.
//
// When the context of NewGroup ends (a step cancelled, timed out, or the
// driver shutting down), the whole group gets SIGTERM; whatever is left of
// it grace later gets SIGKILL, and Wait stops waiting for the command's
// output pipes then (exec.Cmd.WaitDelay), so a child that holds them open
// never keeps Run waiting. When the command ends by itself, whatever it left
// running in its group is killed at once.
type Group struct {
	// Cmd is the command; set its Dir, Env, Stdout and Stderr before Run.
	Cmd   *exec.Cmd
	grace time.Duration
	// termAt is when the group got SIGTERM; nil until it did.
	termAt atomic.Pointer[time.Time]
}

// NewGroup makes the command name with its arguments, to run in a process
// group of its own and stop as Group says when ctx ends.
func NewGroup(ctx context.Context, grace time.Duration, name string, arg ...string) *Group {
	g := &Group{Cmd: exec.CommandContext(ctx, name, arg...), grace: grace}
	g.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	g.Cmd.Cancel = func() error {
		now := time.Now()
		g.termAt.Store(&now)
		return syscall.Kill(-g.Cmd.Process.Pid, syscall.SIGTERM)
	}
	g.Cmd.WaitDelay = grace
	return g
}

// Run starts the command, waits for it, and ends what is left of its
// group. It returns the command's error (an *exec.ExitError for a non-zero
// exit) and whether the command, having exited 0, left processes that
// held its output open; they were killed, and err is nil then.
func (g *Group) Run() (leftRunning bool, err error) {
	err = g.Cmd.Run()
	if g.Cmd.Process == nil {
		return false, err // not started
	}
	pgid := g.Cmd.Process.Pid
	if t := g.termAt.Load(); t != nil {
		// Stopped: the group's members have the rest of the grace to end
		// on SIGTERM.
		for deadline := t.Add(g.grace); time.Now().Before(deadline) && syscall.Kill(-pgid, 0) == nil; {
			time.Sleep(20 * time.Millisecond)
		}
	}
	// A member outlives its leader when it ignored SIGTERM or was left in
	// the background.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	if errors.Is(err, exec.ErrWaitDelay) && g.termAt.Load() == nil {
		return true, nil
	}
	return false, err
}
