package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/conveyor/conveyor/sdk"
	"github.com/spf13/cobra"
)

// Exit codes of the client commands.
const (
	exitOK          = 0 // done; for apply --wait: every run succeeded
	exitFailed      = 1 // the server refused or a waited run did not succeed
	exitUsage       = 2 // the command line is wrong
	exitUnreachable = 3 // the server did not answer
	// exitInterrupted is the shell's code for a process ended by SIGINT
	// (128+2): Ctrl-C while following a run, which goes on.
	exitInterrupted = 130
)

const exitCodesHelp = `Exit codes: 0 done (apply --wait: every run succeeded), 1 the server refused or a run failed,
2 usage error, 3 server unreachable, 130 interrupted while following a run (the run goes on). The
server is --server URL, else CONVEYOR_SERVER_HOST and CONVEYOR_SERVER_PORT (default
http://localhost:8080); an https server with a private CA is trusted through --ca-cert or
CONVEYOR_CA_CERT.`

// cli is what every client command runs with.
type cli struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	client         *sdk.Client
	server         string
	token          string
	caCert         string
	// rerun makes apply replace resources that are unchanged.
	rerun bool
	// exit is the exit code of the command that ran.
	exit int
}

// clientCommand makes a client command: its usage line (after the
// command's name), a one-line summary, how many positional arguments it
// takes (max -1: any), the flags every client command has, and run, which
// gets the positional arguments once the flags are parsed and the client
// connected, and returns the exit code.
func (c *cli) clientCommand(use, short string, minArgs, maxArgs int, run func(pos []string) int) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.RangeArgs(minArgs, maxArgs),
		Long: short + "\n\n" + exitCodesHelp + "\n" + tokenHelp}
	switch {
	case maxArgs < 0:
		cmd.Args = cobra.MinimumNArgs(minArgs)
	case minArgs == maxArgs:
		cmd.Args = cobra.ExactArgs(minArgs)
	}
	fs := cmd.Flags()
	fs.StringVar(&c.server, "server", "", "server URL (default from CONVEYOR_SERVER_HOST and CONVEYOR_SERVER_PORT)")
	fs.StringVar(&c.token, "token", "", "API token (default CONVEYOR_TOKEN, else a local server's admin token)")
	fs.StringVar(&c.caCert, "ca-cert", "", "PEM CA certificate to trust for an https server (default CONVEYOR_CA_CERT)")
	cmd.Run = func(_ *cobra.Command, pos []string) {
		if code := c.connect(); code >= 0 {
			c.exit = code
			return
		}
		c.exit = run(pos)
	}
	return cmd
}

// outputFlag is the -o/--output flag of the commands that print objects.
func outputFlag(cmd *cobra.Command) *string {
	return cmd.Flags().StringP("output", "o", "table", "output: table, json or yaml")
}

// connect makes the client from the flags, the environment and the client
// configuration file; it returns -1, or the exit code of a failure.
func (c *cli) connect() int {
	conf, err := loadClientConfig(os.Getenv)
	if err != nil {
		fmt.Fprintf(c.stderr, "conveyor: configuration: %v\n", err)
		return exitUsage
	}
	switch {
	case c.server != "":
	case os.Getenv("CONVEYOR_SERVER_HOST") == "" && os.Getenv("CONVEYOR_SERVER_PORT") == "" && conf.Server != "":
		c.server = conf.Server
	default:
		c.server = sdk.BaseURLFromEnv(os.Getenv)
	}
	token := c.token
	if token == "" && os.Getenv("CONVEYOR_TOKEN") == "" {
		token = conf.tokenFor(c.server)
	}
	if c.caCert == "" && os.Getenv(sdk.EnvCACert) == "" {
		c.caCert = conf.CACert
	}
	opts := []sdk.ClientOption{sdk.WithBaseURL(c.server), sdk.WithToken(resolveToken(token, c.server, os.Getenv))}
	if c.caCert != "" {
		opts = append(opts, sdk.WithCACert(c.caCert))
	}
	client, err := sdk.NewClient(opts...)
	if err != nil {
		fmt.Fprintf(c.stderr, "conveyor: %v\n", err)
		return exitUsage
	}
	c.client = client
	return -1
}

// fail prints one line for err and returns the exit code it calls for.
func (c *cli) fail(what string, err error) int {
	var apiErr *sdk.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.Detail
		if msg == "" {
			msg = apiErr.Title
		}
		var details []string
		for _, d := range apiErr.Errors {
			details = append(details, strings.TrimPrefix(d.Location, "body.")+": "+d.Message)
		}
		if len(details) > 0 && !strings.Contains(msg, details[0]) {
			msg += " (" + strings.Join(details, "; ") + ")"
		}
		fmt.Fprintf(c.stderr, "conveyor: %s: %s\n", what, msg)
		return exitFailed
	}
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(c.stderr, "conveyor: %s: timed out (context deadline exceeded)\n", what)
		return exitFailed
	}
	var netErr net.Error
	var urlErr *url.Error
	if errors.As(err, &netErr) || errors.As(err, &urlErr) {
		fmt.Fprintf(c.stderr, "conveyor: %s: server %s unreachable: %v\n", what, sdk.RedactURL(c.client.BaseURL()), rootCause(err))
		return exitUnreachable
	}
	fmt.Fprintf(c.stderr, "conveyor: %s: %v\n", what, err)
	return exitFailed
}

// stoppedFollowing says that the user stopped following runs, which go on
// on the server, and returns exitInterrupted.
func (c *cli) stoppedFollowing(runs ...string) int {
	what := "run " + runs[0] + " goes on"
	if len(runs) > 1 {
		what = "runs " + strings.Join(runs, ", ") + " go on"
	}
	fmt.Fprintf(c.stderr, "conveyor: stopped following; %s\n", what)
	return exitInterrupted
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

func contextWithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
