package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `conveyor: resource-driven CI/CD

Usage:
  conveyor server [flags]   run the server (embedded NATS and etcd unless --nats-url/--etcd-endpoints)
  conveyor projections rebuild|verify   rebuild the read models from the log, or check them
  conveyor bench [flags]    measure a server (its own unless --api/--nats)
  conveyor version          print the version

Run "conveyor server -h" for the server's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

// run executes one subcommand and returns the process exit code.
func run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "server":
		return runServer(ctx, args[1:])
	case "projections":
		return runProjections(ctx, args[1:], os.Stdout, os.Stderr)
	case "bench":
		return runBench(ctx, args[1:])
	case "version", "--version":
		fmt.Println(version)
		return 0
	case "help", "-h", "--help":
		fmt.Print(usage)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "conveyor: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
