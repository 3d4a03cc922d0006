package execdriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

// Keys of a result's data that the driver sets; a script may not write
// them to $CONVEYOR_OUTPUT.
const (
	keyExitCode  = "exitCode"
	keyLastLines = "lastLines"
)

// Defaults of Config.
const (
	DefaultWorkspaceTTL  = time.Hour
	DefaultKillGrace     = 5 * time.Second
	DefaultShutdownGrace = 30 * time.Second
)

// lastLines is how many of the script's last lines the result carries.
const lastLines = 20

// Config configures the exec driver. The NATS server and credentials come
// from the environment, as for every driver of the sdk
// (CONVEYOR_NATS_URL, CONVEYOR_TOKEN, CONVEYOR_CA_CERT).
type Config struct {
	// Name is the driver's name, which pipeline steps name (default
	// "exec").
	Name string
	// Resources are the resource types whose pipelines' steps it runs
	// (required).
	Resources []string
	// Labels are this process's labels (at most 4): it runs the steps of
	// its driver that name no labels, and those whose runsOn it has every
	// label of (docs/exec-driver.md, "Where steps run").
	Labels []string
	// WorkspaceRoot holds a directory per run (default: conveyor/exec/NAME
	// in the user's cache directory, else in the temporary directory).
	WorkspaceRoot string
	// WorkspaceTTL is how long a run's workspace is kept after its last
	// step on this host ended (default 1h).
	WorkspaceTTL time.Duration
	// Concurrency bounds the steps run at once (default 1).
	Concurrency int
	// KillGrace is how long a stopped script's process group has between
	// SIGTERM and SIGKILL (default 5s).
	KillGrace time.Duration
	// ShutdownGrace is how long running steps may go on once the driver
	// is told to stop, before they are stopped and their work handed back
	// (default 30s).
	ShutdownGrace time.Duration
	// ContainerEngine runs the steps that name with.image: "auto" (the
	// default) for docker when it can run containers, else podman; or the
	// name or path of one of them (or of a program with their command
	// line).
	ContainerEngine string
	// Logger receives the driver's own logs (default: discarded).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Name == "" {
		c.Name = "exec"
	}
	if c.WorkspaceRoot == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		c.WorkspaceRoot = filepath.Join(base, "conveyor", "exec", c.Name)
	}
	if c.WorkspaceTTL == 0 {
		c.WorkspaceTTL = DefaultWorkspaceTTL
	}
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.KillGrace == 0 {
		c.KillGrace = DefaultKillGrace
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.ContainerEngine == "" {
		c.ContainerEngine = ContainerEngineAuto
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate says what is wrong with c, all of it.
func (c Config) Validate() error {
	var errs []error
	if len(c.Resources) == 0 {
		errs = append(errs, errors.New("name the resource types whose pipelines use the driver (--resources)"))
	}
	if c.WorkspaceTTL < 0 || c.KillGrace < 0 || c.ShutdownGrace < 0 {
		errs = append(errs, errors.New("durations must not be negative"))
	}
	if c.Concurrency < 0 {
		errs = append(errs, errors.New("concurrency must be at least 1"))
	}
	return errors.Join(errs...)
}

// driver runs steps' scripts.
type driver struct {
	cfg        Config
	workspaces *workspaces
	// outputs holds the $CONVEYOR_OUTPUT files of running steps.
	outputs string
	// engines finds the container engine of steps with an image.
	engines *engines
	// running counts the scripts whose groups (and containers) are not
	// ended yet.
	running sync.WaitGroup
}

// Run runs the exec driver until ctx ends: it takes steps from the server,
// runs their scripts and sweeps old workspaces. When ctx ends it stops
// taking work, lets running steps go on for ShutdownGrace, stops the rest,
// and returns once the process group of every script it started is gone.
func Run(ctx context.Context, cfg Config) error {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	d := &driver{cfg: cfg, workspaces: newWorkspaces(cfg.WorkspaceRoot, cfg.WorkspaceTTL, cfg.Logger),
		outputs: filepath.Join(cfg.WorkspaceRoot, outputDir), engines: &engines{named: cfg.ContainerEngine, log: cfg.Logger}}
	if err := os.MkdirAll(d.outputs, 0o700); err != nil {
		return fmt.Errorf("workspace root: %w", err)
	}
	m, err := sdk.NewManager(sdk.NewDriver(cfg.Name, cfg.Resources, d.reconcile), sdk.WithConcurrency(cfg.Concurrency),
		sdk.WithLabels(cfg.Labels...), sdk.WithGracePeriod(cfg.ShutdownGrace), sdk.WithLogger(cfg.Logger))
	if err != nil {
		return err
	}
	sweepCtx, stopSweeping := context.WithCancel(context.Background())
	var sweeper sync.WaitGroup
	sweeper.Go(func() { d.workspaces.run(sweepCtx) })
	err = m.Run(ctx)
	// A step the manager abandoned may still be ending its group.
	d.running.Wait()
	stopSweeping()
	sweeper.Wait()
	return err
}

// reconcile runs one step's script.
func (d *driver) reconcile(ctx context.Context, req sdk.Request) sdk.Result {
	if req.RunID == "" || req.Step == "" {
		return sdk.Result{Success: true, Message: "the exec driver runs pipeline steps; nothing to do without one"}
	}
	p, err := parseParams(req.With)
	if err != nil {
		return sdk.Result{Success: false, Message: err.Error()}
	}
	engine := ""
	if p.Image != nil {
		// Never on the host instead: the script was written for the image.
		if engine, err = d.engines.find(ctx); err != nil {
			return sdk.Result{Success: false, Message: err.Error()}
		}
	}
	workspace, release, err := d.workspaces.open(req.RunID)
	if err != nil {
		return sdk.Result{Success: false, Message: err.Error()}
	}
	defer release()
	dir := filepath.Join(workspace, p.Workdir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return sdk.Result{Success: false, Message: "with.workdir: " + err.Error()}
	}
	// A container sees the workspace only, so its output file is there.
	outputs, pattern := d.outputs, req.RunID+"-*"
	if engine != "" {
		outputs, pattern = workspace, ".conveyor-output-*"
	}
	output, err := os.CreateTemp(outputs, pattern)
	if err != nil {
		return sdk.Result{Success: false, Message: "$CONVEYOR_OUTPUT: " + err.Error()}
	}
	_ = output.Close()
	defer os.Remove(output.Name())

	args, vars := p.command(), stepVars(req, p, workspace, output.Name())
	var ctr container
	if engine != "" {
		if ctr, vars, err = newContainer(req, p, workspace, output.Name()); err != nil {
			return sdk.Result{Success: false, Message: err.Error()}
		}
		args = append([]string{engine}, ctr.args()...)
	}
	g := NewGroup(ctx, d.cfg.KillGrace, args[0], args[1:]...)
	g.Cmd.Dir = dir
	g.Cmd.Env = StepEnv(req, vars...)
	last := newTail(lastLines)
	out := io.MultiWriter(req.Log, last) // each line into the run's log as it comes
	g.Cmd.Stdout, g.Cmd.Stderr = out, out
	d.running.Add(1)
	leftRunning, err := g.Run()
	if engine != "" && !exitedByItself(ctx, err) {
		killContainer(engine, ctr.name)
	}
	d.running.Done()
	if leftRunning {
		req.Log.Printf("the script left processes running; they were killed")
	}
	req.Log.Flush()
	return d.result(ctx, req, err, output.Name(), last.Lines(), engine)
}

// stepVars are the variables the driver gives a step's script, beside
// those of StepEnv: workspace and output are their paths as the script
// sees them.
func stepVars(req sdk.Request, p params, workspace, output string) []string {
	return append([]string{"CI=true", "CONVEYOR_WORKSPACE=" + workspace, "CONVEYOR_OUTPUT=" + output,
		"CONVEYOR_RESOURCE=" + req.Resource.Type, "CONVEYOR_RESOURCE_NAME=" + req.Resource.Name}, p.env()...)
}

// exitedByItself says whether the command ended on its own with an exit
// code: the step was not stopped, nor its command ended by a signal.
func exitedByItself(ctx context.Context, err error) bool {
	var exitErr *exec.ExitError
	return ctx.Err() == nil && (err == nil || errors.As(err, &exitErr) && exitErr.ExitCode() >= 0)
}

// result is the step's result from how its script ended, its output file
// and its last lines; engine is the container engine that ran it, if any.
func (d *driver) result(ctx context.Context, req sdk.Request, runErr error, output string, last []string, engine string) sdk.Result {
	code := 0
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return sdk.Result{Success: false, Message: "stopped: " + context.Cause(ctx).Error()}
	case errors.As(runErr, &exitErr):
		code = exitErr.ExitCode() // -1 when a signal ended it
	case runErr != nil:
		return sdk.Result{Success: false, Message: "the script did not run: " + req.Log.Mask(runErr.Error())}
	}
	for i, line := range last {
		last[i] = req.Log.Mask(line)
	}
	data := map[string]any{keyExitCode: code, keyLastLines: last}
	if code != 0 {
		msg := "the script exited with code " + strconv.Itoa(code)
		if code < 0 {
			msg = "the script was ended by a signal: " + exitErr.Error()
		}
		if code == containerNotRun && engine != "" {
			msg = "the container did not run: " + filepath.Base(engine) + " run exited with code 125 (its reason is in the log)"
		}
		return sdk.Result{Success: false, Message: msg, Data: data}
	}
	values, err := readOutput(output)
	if err != nil {
		return sdk.Result{Success: false, Message: req.Log.Mask(err.Error()), Data: data}
	}
	for k, v := range values {
		data[k] = req.Log.Mask(v)
	}
	if b, _ := json.Marshal(data); len(b) > 60<<10 {
		return sdk.Result{Success: false, Message: "the result's data would be over 60 KiB as JSON; write less to $CONVEYOR_OUTPUT",
			Data: map[string]any{keyExitCode: code, keyLastLines: last}}
	}
	return sdk.Result{Success: true, Message: "the script exited with code 0", Data: data}
}
