package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// errUsage marks a command line that is wrong: exit code 2.
var errUsage = errors.New("usage")

// rootCommand is the binary's command tree; every command reports its exit
// code in the returned cli.
func rootCommand(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) (*cobra.Command, *cli) {
	c := &cli{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use: "conveyor", Short: "Conveyor: resource-driven CI/CD", Long: about,
		SilenceErrors: true, SilenceUsage: true,
		Run: func(cmd *cobra.Command, _ []string) {
			c.usage(cmd)
			c.exit = exitUsage
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w: %v", errUsage, err)
	})
	root.AddCommand(
		ownFlags("server", "run the server (embedded NATS and etcd unless --nats-url/--etcd-endpoints)",
			func(args []string) int { return runServer(ctx, args) }, c),
		c.applyCommand(), c.getCommand(), c.deleteCommand(), c.runsCommand(), c.runCommand(),
		c.cancelCommand(), c.retryCommand(), c.approveCommand(), c.rejectCommand(),
		c.logsCommand(), c.eventsCommand(), c.traceCommand(), c.tokensCommand(), c.driversCommand(),
		c.readyCommand(), c.projectionsCommand(), c.secretsCommand(), c.triggersCommand(), c.driverCommand(),
		ownFlags("bench", "measure a server (its own unless --api/--nats)", func(args []string) int { return runBench(ctx, args) }, c),
		&cobra.Command{Use: "version", Short: "print the version", Args: cobra.NoArgs, Run: func(*cobra.Command, []string) {
			fmt.Fprintln(stdout, version)
			if d := versionDetails(readBuildInfo()); d != "" {
				fmt.Fprintln(stdout, d)
			}
		}},
	)
	return root, c
}

// ownFlags is a command that parses its own flags (the server's and the
// load generator's, each with an environment variable).
func ownFlags(name, short string, run func(args []string) int, c *cli) *cobra.Command {
	return &cobra.Command{Use: name + " [flags]", Short: short, DisableFlagParsing: true,
		Run: func(_ *cobra.Command, args []string) { c.exit = run(args) }}
}

// execute runs one command line with the given streams and returns its
// exit code: the command's, or 2 for a wrong command line.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root, c := rootCommand(ctx, stdin, stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err != nil {
		fmt.Fprintf(stderr, "conveyor: %s\n", strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	}
	return c.exit
}

// runClient runs one client command with the given streams, for tests.
func runClient(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return execute(ctx, append([]string{name}, args...), stdin, stdout, stderr)
}

// usage prints cmd's usage on stderr, after a wrong command line.
func (c *cli) usage(cmd *cobra.Command) {
	fmt.Fprint(c.stderr, cmd.UsageString())
}
