// Command shell is an example driver that runs the command in a resource's
// spec and streams its output, line by line, into the run's log.
//
// Definition "job": {"command": "echo hello && sleep 1 && echo done"}. The
// command runs with `sh -c` in a fresh temporary directory, with
// CONVEYOR_RUN_ID, CONVEYOR_STEP and CONVEYOR_ATTEMPT set, each secret the
// step is granted as SECRET_{NAME}, and each top-level parameter of the
// step's `with` as PARAM_{NAME} (a string as it is, any other value as its
// JSON); names are upper-cased, anything but letters and digits becoming _.
// The step succeeds when the command exits 0.
//
// The command runs in a process group of its own. When its step is stopped
// (the run is cancelled, the attempt times out, the driver shuts down past
// its grace period), the whole group gets SIGTERM, and SIGKILL what is left
// of it killGrace later; when the command ends, whatever it left running in
// the group is killed too. So a child such as the `sleep` of `sh -c 'sleep
// 3600'`, which holds the output pipe open, never keeps the step, and the
// driver's work slot, taken.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

// killGrace is how long a stopped command's process group has between
// SIGTERM and SIGKILL.
const killGrace = 5 * time.Second

func runCommand(ctx context.Context, req sdk.Request) sdk.Result {
	if req.Event == "delete" {
		return sdk.Result{Success: true, Message: "nothing to do on delete"}
	}
	var spec struct {
		Command string `json:"command"`
	}
	if err := json.Unmarshal(req.Resource.Spec, &spec); err != nil || spec.Command == "" {
		return sdk.Result{Success: false, Message: "spec.command is required"}
	}
	dir, err := os.MkdirTemp("", "conveyor-shell-")
	if err != nil {
		return sdk.Result{Success: false, Message: err.Error()}
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, "sh", "-c", spec.Command)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CONVEYOR_RUN_ID="+req.RunID, "CONVEYOR_STEP="+req.Step,
		"CONVEYOR_ATTEMPT="+strconv.Itoa(req.Attempt))
	for name, value := range req.Secrets { // registry-password → SECRET_REGISTRY_PASSWORD
		cmd.Env = append(cmd.Env, envName("SECRET_", name)+"="+value)
	}
	var params map[string]json.RawMessage
	if len(req.With) > 0 {
		if err := json.Unmarshal(req.With, &params); err != nil {
			return sdk.Result{Success: false, Message: "with: " + err.Error()}
		}
	}
	for name, raw := range params { // image → PARAM_IMAGE
		value := string(raw)
		_ = json.Unmarshal(raw, &value) // a string as it is
		cmd.Env = append(cmd.Env, envName("PARAM_", name)+"="+value)
	}
	cmd.Stdout, cmd.Stderr = req.Log, req.Log // the logger is an io.Writer
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// On a stop: SIGTERM to the group; killGrace later Wait stops waiting
	// for the output pipes, and the group gets SIGKILL below.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = killGrace
	err = cmd.Run()
	if cmd.Process != nil {
		// The group outlives its leader while a member runs: one that
		// ignored SIGTERM, or one the command left in the background.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if errors.Is(err, exec.ErrWaitDelay) { // it exited 0, but left something holding its output
		req.Log.Printf("the command left processes running; they were killed")
		err = nil
	}
	req.Log.Flush()
	if err != nil {
		return sdk.Result{Success: false, Message: "command failed: " + err.Error()}
	}
	return sdk.Result{Success: true, Message: "command succeeded"}
}

// envName is prefix and name upper-cased, with _ for anything but letters
// and digits.
func envName(prefix, name string) string {
	return prefix + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Four steps at once, so that the steps of a graph run side by side.
	m, err := sdk.NewManager(sdk.NewDriver("shell", []string{"job"}, runCommand), sdk.WithConcurrency(4))
	if err != nil {
		fmt.Fprintln(os.Stderr, "shell:", err)
		os.Exit(1)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "shell:", err)
		os.Exit(1)
	}
}
