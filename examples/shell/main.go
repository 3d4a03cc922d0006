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
// The command runs in a process group of its own (execdriver.Group, which
// the built-in exec driver uses too). When its step is stopped (the run is
// cancelled, the attempt times out, the driver shuts down past its grace
// period), the whole group gets SIGTERM, and SIGKILL what is left of it
// killGrace later; when the command ends, whatever it left running in the
// group is killed too. So a child such as the `sleep` of `sh -c 'sleep
// 3600'`, which holds the output pipe open, never keeps the step, and the
// driver's work slot, taken. The command's environment is the driver's
// without its CONVEYOR_* variables, which hold its NATS credentials.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/conveyor/conveyor/sdk"
	"github.com/conveyor/conveyor/sdk/execdriver"
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
	var params map[string]json.RawMessage
	if len(req.With) > 0 {
		if err := json.Unmarshal(req.With, &params); err != nil {
			return sdk.Result{Success: false, Message: "with: " + err.Error()}
		}
	}
	var env []string
	for name, raw := range params { // image → PARAM_IMAGE
		env = append(env, execdriver.EnvName("PARAM_", name)+"="+execdriver.EnvValue(raw))
	}
	g := execdriver.NewGroup(ctx, killGrace, "sh", "-c", spec.Command)
	g.Cmd.Dir = dir
	g.Cmd.Env = execdriver.StepEnv(req, env...)
	g.Cmd.Stdout, g.Cmd.Stderr = req.Log, req.Log // the logger is an io.Writer
	leftRunning, err := g.Run()
	if leftRunning { // it exited 0, but left something holding its output
		req.Log.Printf("the command left processes running; they were killed")
	}
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
