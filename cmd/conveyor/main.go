package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `conveyor: resource-driven CI/CD

Usage:
  conveyor server [flags]               run the server (embedded NATS and etcd unless --nats-url/--etcd-endpoints)

  conveyor apply -f FILE|- [--wait]     create or update definitions, pipelines and resources (YAML or JSON)
  conveyor get KIND [NAME] [-o FORMAT]  show definitions, pipelines, resources or runs (table, json, yaml);
                                        --at X shows one resource or run as it was at a time or log position
  conveyor delete KIND NAME             delete a definition, pipeline or resource (TYPE/NAME)
  conveyor runs [--resource R] [--pipeline P] [--status S]
  conveyor run RUNID [--at X]           a run's steps and status; --at: as they were at a time or log position
  conveyor cancel RUNID                 cancel a run that has not ended
  conveyor retry RUNID                  resume a failed run from its failed step
  conveyor approve|reject RUNID STEP    decide on a waiting approval step (-m COMMENT)
  conveyor logs RUNID [-f]              a run's log; -f follows it live until the run ends
  conveyor events [--follow]            the event log, for audits
  conveyor trace RUNID                  why a run happened and what happened in it
  conveyor tokens create NAME --role R  issue an API token (viewer, driver, operator, admin); prints it once
  conveyor tokens list|revoke NAME      the active tokens; revoke one
  conveyor drivers                      the drivers: connected instances, resource types, pending work
  conveyor drivers credentials NAME     issue a driver's NATS credentials (--rotate: new ones); prints its CONVEYOR_NATS_URL
  conveyor projections rebuild|verify   rebuild the read models from the log, or check them
  conveyor projections parked           events the server's consumers could not handle and set aside
  conveyor projections unpark ID        dismiss a parked event once its cause is dealt with
  conveyor ready                        exit 0 when the server is ready (NATS and etcd reachable): a health check
  conveyor bench [flags]                measure a server (its own unless --api/--nats)
  conveyor completion bash|zsh          shell completion
  conveyor version                      print the version

Run "conveyor COMMAND -h" for a command's flags. Exit codes: 0 done, 1 the server refused or a run
failed, 2 usage error, 3 server unreachable. Clients find the server through --server or
CONVEYOR_SERVER_HOST and CONVEYOR_SERVER_PORT (default http://localhost:8080), and send --token, else
CONVEYOR_TOKEN, else a local server's admin token from CONVEYOR_DATA_DIR (default ./conveyor-data).
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
	case "apply", "get", "delete", "runs", "run", "cancel", "retry", "approve", "reject", "logs", "events", "trace", "tokens", "drivers", "ready":
		return runClient(ctx, args[0], args[1:], os.Stdin, os.Stdout, os.Stderr)
	case "completion":
		return completion(args[1:], os.Stdout, os.Stderr)
	case "projections":
		return runProjections(ctx, args[1:], os.Stdout, os.Stderr)
	case "bench":
		return runBench(ctx, args[1:])
	case "version", "--version":
		fmt.Println(version)
		if d := versionDetails(readBuildInfo()); d != "" {
			fmt.Println(d)
		}
		return 0
	case "help", "-h", "--help":
		fmt.Print(usage)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "conveyor: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
