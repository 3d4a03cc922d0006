package main

import (
	"fmt"
	"log/slog"

	"github.com/conveyor/conveyor/sdk/execdriver"
	"github.com/spf13/cobra"
)

// driverCommand is `conveyor driver exec`: the built-in drivers, which run
// as drivers of the sdk do, with CONVEYOR_NATS_URL (and CONVEYOR_TOKEN,
// CONVEYOR_CA_CERT) from the environment.
func (c *cli) driverCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "driver", Short: "run a built-in driver: exec (a step's with.run script on this host)"}
	var cfg execdriver.Config
	var verbose bool
	exec := &cobra.Command{Use: "exec --resources TYPE[,TYPE] [--labels LABEL[,LABEL]] [flags]",
		Short: "run pipeline steps' with.run scripts on this host, in a workspace per run",
		Long: `Run pipeline steps' scripts on this host: a step names the driver (driver: exec) and its script
(with: {run: ...}; shell, env, workdir, image optional; with an image, the script runs in a container
of it, with docker or podman). Each line the script writes goes into the run's log
as it is written; a non-zero exit fails the step; key=value lines written to $CONVEYOR_OUTPUT become
the result's data. The steps of a run that land on this process share a workspace, removed once
no step of the run used it for --workspace-ttl. With --labels, it also runs the steps whose runsOn
names only labels it has (a step without runsOn runs on any process of the driver). See
docs/exec-driver.md.

NATS and its credentials come from CONVEYOR_NATS_URL, as for every driver:
  CONVEYOR_NATS_URL=$(conveyor drivers credentials exec) conveyor driver exec --resources source`,
		Args: cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			cfg.Logger = slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: level}))
			if err := execdriver.Run(c.ctx, cfg); err != nil {
				fmt.Fprintf(c.stderr, "conveyor driver exec: %v\n", err)
				c.exit = exitFailed
			}
		},
	}
	fs := exec.Flags()
	fs.StringVar(&cfg.Name, "name", "exec", "the driver's name, which steps name")
	fs.StringSliceVar(&cfg.Resources, "resources", nil, "the resource types whose pipelines' steps it runs (required)")
	fs.StringSliceVar(&cfg.Labels, "labels", nil, "this host's labels, at most 4 (linux,gpu): it also runs the steps whose runsOn names only labels of these")
	fs.StringVar(&cfg.WorkspaceRoot, "workspace-root", "", "where the runs' workspaces are (default conveyor/exec/NAME in the user cache directory)")
	fs.DurationVar(&cfg.WorkspaceTTL, "workspace-ttl", execdriver.DefaultWorkspaceTTL, "remove a run's workspace once no step of it ran here for this long")
	fs.IntVar(&cfg.Concurrency, "concurrency", 1, "steps run at once")
	fs.DurationVar(&cfg.KillGrace, "kill-grace", execdriver.DefaultKillGrace, "between SIGTERM and SIGKILL of a stopped script's process group")
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", execdriver.DefaultShutdownGrace, "how long running steps may finish after SIGINT or SIGTERM before they are stopped")
	fs.StringVar(&cfg.ContainerEngine, "container-engine", execdriver.ContainerEngineAuto, "runs the steps that name with.image: auto (docker if it can run containers, else podman), or a name or path")
	fs.BoolVarP(&verbose, "verbose", "v", false, "log each line of the scripts' output on stderr too")
	_ = exec.MarkFlagRequired("resources")
	cmd.AddCommand(exec)
	return cmd
}
