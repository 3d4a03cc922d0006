// Command shell is an example driver that runs the command in a resource's
// spec and streams its output, line by line, into the run's log.
//
// Definition "job": {"command": "echo hello && sleep 1 && echo done"}. The
// command runs with `sh -c` in a fresh temporary directory, with
// CONVEYOR_RUN_ID, CONVEYOR_STEP and CONVEYOR_ATTEMPT set, and each secret
// the step is granted as SECRET_{NAME} (upper case, - as _); the step
// succeeds when it exits 0. Cancelling the run kills the command.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/conveyor/conveyor/sdk"
)

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
		cmd.Env = append(cmd.Env, "SECRET_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_"))+"="+value)
	}
	cmd.Stdout, cmd.Stderr = req.Log, req.Log // the logger is an io.Writer
	err = cmd.Run()
	req.Log.Flush()
	if err != nil {
		return sdk.Result{Success: false, Message: "command failed: " + err.Error()}
	}
	return sdk.Result{Success: true, Message: "command succeeded"}
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
