// Command testdriver is a driver for the crash tests: it works for WORK_MS
// milliseconds on each message, logging "working" first and "done" last, and
// succeeds. DRIVER_NAME names it; it listens to resources of type "build";
// ACK_WAIT_MS sets how soon the server redelivers work of a dead process;
// RECORD_FILE, if set, receives one JSON line per execution (see record.go).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	name := os.Getenv("DRIVER_NAME")
	work := time.Duration(envInt("WORK_MS", 100)) * time.Millisecond
	rec, err := newRecorder(os.Getenv("RECORD_FILE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d := sdk.NewDriver(name, []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		started := time.Now()
		defer func() {
			rec.record(execution{RunID: req.RunID, Step: req.Step, Attempt: req.Attempt,
				Key: req.IdempotencyKey, PID: os.Getpid(), Start: started, End: time.Now()})
		}()
		req.Log.Printf("working on %s step %s attempt %d (pid %d)", req.Resource.Name, req.Step, req.Attempt, os.Getpid())
		req.Log.Flush()
		select {
		case <-ctx.Done():
			return sdk.Result{Success: false, Message: "interrupted"}
		case <-time.After(work):
		}
		req.Log.Printf("done with %s", req.Resource.Name)
		return sdk.Result{Success: true, Message: name + " done", Data: map[string]any{"pid": os.Getpid()}}
	})
	m, err := sdk.NewManager(d, sdk.WithConcurrency(envInt("CONCURRENCY", 4)),
		sdk.WithAckWait(time.Duration(envInt("ACK_WAIT_MS", 2000))*time.Millisecond), sdk.WithBackoff(200*time.Millisecond))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
