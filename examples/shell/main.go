// Command shell is an example driver that runs the command in a resource's
// spec and streams its output, line by line, into the run's log.
//
// Definition "job": {"command": "echo hello && sleep 1 && echo done"}. The
// command runs with `sh -c` in a fresh temporary directory; the step succeeds
// when it exits 0.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
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
	m, err := sdk.NewManager(sdk.NewDriver("shell", []string{"job"}, runCommand))
	if err != nil {
		fmt.Fprintln(os.Stderr, "shell:", err)
		os.Exit(1)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "shell:", err)
		os.Exit(1)
	}
}
