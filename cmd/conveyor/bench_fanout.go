package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

// fanoutWidth is how many steps of the fan-out scenario run side by side.
const fanoutWidth = 10

// fanoutResult is what benchFanout measured: n runs of split → ten steps
// side by side → join, until every join's work arrived; and, per run, the
// gap from the last of the ten results to the join's work (the fan-in).
type fanoutResult struct {
	n     int
	took  time.Duration
	fanIn []time.Duration
}

func (r fanoutResult) rows() []row {
	name := fmt.Sprintf("%d fan-out/fan-in runs (1 → %d → 1)", r.n, fanoutWidth)
	return []row{
		{name, "until the last join's work arrived", r.took.Round(time.Millisecond).String()},
		{name, "runs/s", fmt.Sprintf("%.0f", float64(r.n)/r.took.Seconds())},
		{name, "steps/s", fmt.Sprintf("%.0f", float64(r.n*(fanoutWidth+2))/r.took.Seconds())},
		{"fan-in: last of ten results → join, under load", "p50 / p99", fmt.Sprintf("%v / %v", percentile(r.fanIn, 50), percentile(r.fanIn, 99))},
	}
}

// fanoutPipeline is split, then ten steps that need it, then join, which
// needs all ten.
func fanoutPipeline(name, typ, suffix string) sdk.Pipeline {
	p := sdk.Pipeline{Name: name, Resource: typ, Steps: []sdk.Step{{ID: "split", Driver: "bench-split-" + suffix}}}
	var wide []string
	for i := range fanoutWidth {
		id := fmt.Sprintf("w%d", i)
		wide = append(wide, id)
		p.Steps = append(p.Steps, sdk.Step{ID: id, Driver: "bench-wide-" + suffix, Needs: []string{"split"}})
	}
	p.Steps = append(p.Steps, sdk.Step{ID: "join", Driver: "bench-join-" + suffix, Needs: wide})
	return p
}

// benchFanout starts n runs of the fan-out pipeline with three sdk drivers
// and measures the time until every join's work arrived.
func benchFanout(ctx context.Context, client *sdk.Client, natsURL, typ, suffix string, n int) (fanoutResult, error) {
	name := "bench-fanout-" + suffix
	if _, err := client.CreatePipeline(ctx, fanoutPipeline(name, typ, suffix)); err != nil {
		return fanoutResult{}, err
	}
	var mu sync.Mutex
	lastWide := map[string]time.Time{}
	var fanIn []time.Duration
	var joined atomic.Int64
	allDone := make(chan struct{})
	ok := func(ctx context.Context, req sdk.Request) sdk.Result { return sdk.Result{Success: true} }
	wide := func(ctx context.Context, req sdk.Request) sdk.Result {
		if req.Step != "" {
			mu.Lock()
			lastWide[req.RunID] = time.Now() // the last one written is the last result sent
			mu.Unlock()
		}
		return sdk.Result{Success: true}
	}
	join := func(ctx context.Context, req sdk.Request) sdk.Result {
		if req.Step == "" {
			return sdk.Result{Success: true}
		}
		mu.Lock()
		if t, ok := lastWide[req.RunID]; ok {
			fanIn = append(fanIn, time.Since(t))
		}
		mu.Unlock()
		if joined.Add(1) == int64(n) {
			close(allDone)
		}
		return sdk.Result{Success: true}
	}
	stop, err := runBenchDrivers(ctx, natsURL, sdk.NewDriver("bench-split-"+suffix, []string{typ}, ok),
		sdk.NewDriver("bench-wide-"+suffix, []string{typ}, wide), sdk.NewDriver("bench-join-"+suffix, []string{typ}, join))
	if err != nil {
		return fanoutResult{}, err
	}
	defer stop()

	start := time.Now()
	if _, err := createRuns(ctx, client, typ, name, "fan-", n, 16); err != nil {
		return fanoutResult{}, err
	}
	select {
	case <-allDone:
	case <-time.After(5 * time.Minute):
		return fanoutResult{}, errors.New("fan-out runs did not end within 5 minutes")
	}
	took := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	return fanoutResult{n: n, took: took, fanIn: append([]time.Duration(nil), fanIn...)}, nil
}
