package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// about is the root command's help, after cobra's list of commands.
const about = `Conveyor: resource-driven CI/CD. "conveyor server" runs it (embedded NATS and etcd unless
--nats-url/--etcd-endpoints); the other commands are its clients.

Exit codes: 0 done, 1 the server refused or a run failed, 2 usage error, 3 server unreachable,
130 interrupted while following a run (the run goes on). Clients find the server through --server or
CONVEYOR_SERVER_HOST and CONVEYOR_SERVER_PORT (default http://localhost:8080), and send --token, else
CONVEYOR_TOKEN, else a local server's admin token from CONVEYOR_DATA_DIR (default ./conveyor-data).`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string) int {
	return execute(ctx, args, os.Stdin, os.Stdout, os.Stderr)
}
