package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

// twoStepPipeline is the pipeline of benchRuns: a first step, then a
// second, for its drivers bench-first-{suffix} and bench-second-{suffix}.
func twoStepPipeline(name, typ, suffix string) sdk.Pipeline {
	return sdk.Pipeline{Name: name, Resource: typ,
		Steps: []sdk.Step{{ID: "first", Driver: "bench-first-" + suffix}, {ID: "second", Driver: "bench-second-" + suffix}}}
}

// idleRuns is how many runs measure the step-to-step latency when idle.
const idleRuns = 20

// runsResult is what benchRuns measured: n runs until every second step's
// work arrived, and the gaps from a first step's result to the second step's
// work, one run at a time (idle) and under the n runs.
type runsResult struct {
	n            int
	took         time.Duration
	idle, loaded []time.Duration
}

func (r runsResult) perSecond() float64 { return float64(r.n) / r.took.Seconds() }

func (r runsResult) rows() []row {
	name := fmt.Sprintf("%d two-step runs", r.n)
	return []row{
		{name, "until the last step's work arrived", r.took.Round(time.Millisecond).String()},
		{name, "runs/s", fmt.Sprintf("%.0f", r.perSecond())},
		{"step-to-step, idle", "p50 / p99", fmt.Sprintf("%v / %v", percentile(r.idle, 50), percentile(r.idle, 99))},
		{"step-to-step, under load", "p50 / p99", fmt.Sprintf("%v / %v", percentile(r.loaded, 50), percentile(r.loaded, 99))},
	}
}

// benchRuns starts n two-step runs with two sdk drivers and measures the
// time until every run ended, and the gap between a first step's result and
// the second step's work reaching its driver.
func benchRuns(ctx context.Context, client *sdk.Client, natsURL, typ, pipeline, suffix string, n int) (runsResult, error) {
	var mu sync.Mutex
	finished := map[string]time.Time{}
	var gaps []time.Duration
	// ended counts the second steps' work of the idle runs, then, once
	// underLoad is set (after every idle run's arrived), of the n runs.
	var ended atomic.Int64
	var underLoad atomic.Bool
	allDone := make(chan struct{})
	first := sdk.NewDriver("bench-first-"+suffix, []string{typ}, func(ctx context.Context, req sdk.Request) sdk.Result {
		if req.Step == "" {
			return sdk.Result{Success: true} // fan-out of the resources created before: not a run
		}
		mu.Lock()
		finished[req.RunID] = time.Now()
		mu.Unlock()
		return sdk.Result{Success: true}
	})
	second := sdk.NewDriver("bench-second-"+suffix, []string{typ}, func(ctx context.Context, req sdk.Request) sdk.Result {
		if req.Step == "" {
			return sdk.Result{Success: true}
		}
		mu.Lock()
		if t, ok := finished[req.RunID]; ok {
			gaps = append(gaps, time.Since(t))
		}
		mu.Unlock()
		if ended.Add(1) == int64(n) && underLoad.Load() {
			close(allDone)
		}
		return sdk.Result{Success: true}
	})
	stop, err := runBenchDrivers(ctx, natsURL, first, second)
	if err != nil {
		return runsResult{}, err
	}
	defer stop()

	// Idle step-to-step latency: one run at a time.
	for i := range idleRuns {
		if _, err := client.CreateResource(ctx, sdk.Resource{Name: fmt.Sprintf("idle-%d", i), Type: typ, Pipeline: pipeline, Spec: []byte(`{}`)}); err != nil {
			return runsResult{}, err
		}
		for ended.Load() < int64(i+1) {
			time.Sleep(time.Millisecond)
		}
	}
	mu.Lock()
	idle := append([]time.Duration(nil), gaps...)
	gaps = gaps[:0]
	mu.Unlock()
	ended.Store(0)
	underLoad.Store(true)

	start := time.Now()
	var next atomic.Int64
	var cwg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if _, err := client.CreateResource(ctx, sdk.Resource{Name: fmt.Sprintf("run-%d", i), Type: typ, Pipeline: pipeline, Spec: []byte(`{}`)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	cwg.Wait()
	select {
	case err := <-errs:
		return runsResult{}, err
	default:
	}
	select {
	case <-allDone:
	case <-time.After(5 * time.Minute):
		return runsResult{}, errors.New("runs did not end within 5 minutes")
	}
	// The second step's driver got its work; its result ends the run a moment later.
	elapsed := time.Since(start)
	mu.Lock()
	loaded := append([]time.Duration(nil), gaps...)
	mu.Unlock()
	return runsResult{n: n, took: elapsed, idle: idle, loaded: loaded}, nil
}

// runBenchDrivers runs the drivers, 64 reconciles at once each, until the
// returned stop; it gives their consumers a moment to exist.
func runBenchDrivers(ctx context.Context, natsURL string, drivers ...sdk.Driver) (stop func(), err error) {
	dctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop = func() { cancel(); wg.Wait() }
	for _, d := range drivers {
		m, err := sdk.NewManager(d, sdk.WithNATSURL(natsURL), sdk.WithConcurrency(64), sdk.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			stop()
			return nil, err
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = m.Run(dctx) }()
	}
	time.Sleep(300 * time.Millisecond) // the drivers' consumers exist
	return stop, nil
}
