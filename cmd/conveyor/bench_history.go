package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

// fillSplit is the run after which the history fill's rate is counted
// apart, so that a long burst can be set beside a short one.
const fillSplit = 4000

// fillStall is how long the history fill or the wait for dispatched steps
// may go without progress before the bench gives up.
const fillStall = 2 * time.Minute

// fillResult is what the history fill measured: n runs, and the times from
// the first create until the second step's work of the split-th run to
// arrive, of the last, and until the server listed no run running.
type fillResult struct {
	n                 int
	split, all, ended time.Duration
}

func (r fillResult) rows() []row {
	k := min(r.n, fillSplit)
	rows := []row{{fmt.Sprintf("history fill, runs 1–%d", k), "runs/s", fmt.Sprintf("%.0f", float64(k)/r.split.Seconds())}}
	if r.n > fillSplit {
		rows = append(rows, row{fmt.Sprintf("history fill, runs %d–%d", fillSplit+1, r.n), "runs/s",
			fmt.Sprintf("%.0f", float64(r.n-fillSplit)/(r.all-r.split).Seconds())})
	}
	return append(rows, row{fmt.Sprintf("history fill: %d runs", r.n), "until the server listed none running", r.ended.Round(time.Millisecond).String()})
}

// arrivals counts the runs whose last step's work arrived, each run once
// (work delivered again is not counted again), and notes when the split-th
// and the n-th arrived. Safe for concurrent use.
type arrivals struct {
	mu           sync.Mutex
	start        time.Time
	n, split     int
	seen         map[string]bool
	atSplit, atN time.Duration
	progress     io.Writer
}

func newArrivals(n int, progress io.Writer) *arrivals {
	return &arrivals{start: time.Now(), n: n, split: min(n, fillSplit), seen: map[string]bool{}, progress: progress}
}

// begin starts the clock the arrivals are timed by.
func (a *arrivals) begin() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.start = time.Now()
	return a.start
}

func (a *arrivals) arrive(runID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen[runID] {
		return
	}
	a.seen[runID] = true
	k := len(a.seen)
	if k == a.split {
		a.atSplit = time.Since(a.start)
	}
	if k == a.n {
		a.atN = time.Since(a.start)
	}
	if k%10000 == 0 || k == a.n {
		fmt.Fprintf(a.progress, "history fill: %d of %d runs\n", k, a.n)
	}
}

func (a *arrivals) count() (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seen), nil
}

// benchHistoryFill makes n finished runs of the two-step pipeline, through
// the REST API (64 creates at once) and two sdk drivers that succeed at
// once, and waits until the server lists none of them running.
func benchHistoryFill(ctx context.Context, client *sdk.Client, natsURL, typ, pipeline, suffix string, n int, progress io.Writer) (fillResult, error) {
	got := newArrivals(n, progress)
	ok := func(ctx context.Context, req sdk.Request) sdk.Result { return sdk.Result{Success: true} }
	last := func(ctx context.Context, req sdk.Request) sdk.Result {
		if req.Step != "" { // not the fan-out of a resource created
			got.arrive(req.RunID)
		}
		return sdk.Result{Success: true}
	}
	stop, err := runBenchDrivers(ctx, natsURL, sdk.NewDriver("bench-first-"+suffix, []string{typ}, ok),
		sdk.NewDriver("bench-second-"+suffix, []string{typ}, last))
	if err != nil {
		return fillResult{}, err
	}
	defer stop()
	start := got.begin()
	if _, err := createRuns(ctx, client, typ, pipeline, "hist-", n, 64); err != nil {
		return fillResult{}, err
	}
	if err := waitCount(ctx, n, "history fill: runs whose last step's work arrived", got.count); err != nil {
		return fillResult{}, err
	}
	r := fillResult{n: n, split: got.atSplit, all: got.atN}
	if err := waitRunsEnded(ctx, client, fillStall); err != nil {
		return fillResult{}, err
	}
	r.ended = time.Since(start)
	return r, nil
}

// waitCount polls count until it reaches want, giving up when it has not
// moved for fillStall.
func waitCount(ctx context.Context, want int, what string, count func() (int, error)) error {
	last, since := -1, time.Now()
	for {
		k, err := count()
		if err != nil || k >= want {
			return err
		}
		if k != last {
			last, since = k, time.Now()
		} else if time.Since(since) > fillStall {
			return fmt.Errorf("%s: %d of %d, and none more for %v", what, k, want, fillStall)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitRunsEnded polls GET /runs?status=running&limit=1 until the server
// lists no run running, for at most within.
func waitRunsEnded(ctx context.Context, client *sdk.Client, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		page, err := client.Runs(ctx, sdk.RunFilter{Status: "running"}, sdk.Page{Limit: 1})
		var behind *sdk.APIError
		switch {
		case errors.As(err, &behind) && behind.Status == http.StatusServiceUnavailable && time.Now().Before(deadline):
			// The read models are more than the server's read wait behind
			// the bench's last write: still running, as far as it knows.
			page.Items = []sdk.Run{{}}
		case err != nil:
			return err
		}
		if len(page.Items) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("runs still running after %v, among them %s", within, describeRun(page.Items[0]))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// describeRun says where a run stands: its pipeline, resource and steps.
func describeRun(r sdk.Run) string {
	var steps []string
	for _, s := range r.Steps {
		steps = append(steps, fmt.Sprintf("%s %s (attempt %d)", s.ID, s.Status, s.Attempt))
	}
	return fmt.Sprintf("run %s of pipeline %s on %s/%s: %s", r.ID, r.Pipeline.Name, r.Resource.Type, r.Resource.Name, strings.Join(steps, ", "))
}

// inFlightResult is what benchInFlight measured: n runs waiting on a
// driver that never connects, dispatched within took; the server's resident
// set before and with them, and its CPU meanwhile, idle.
type inFlightResult struct {
	n             int
	took, settled time.Duration
	before, rss   int64
	tail          burstTail
	cpu           cpuShare
	memory        settledMemory // once etcd settled
}

func (r inFlightResult) perRun() int64 { return (r.rss - r.before) / int64(r.n) }

func (r inFlightResult) rows(idle time.Duration) []row {
	name := fmt.Sprintf("in flight: %d runs", r.n)
	rows := []row{
		{name, "until every first step was dispatched", r.took.Round(time.Millisecond).String()},
		{name, "then no message left to handle after", r.settled.Round(time.Millisecond).String()},
		r.tail.row("in flight"),
		{fmt.Sprintf("in flight: idle for %v", idle), "server CPU, % of one core", r.cpu.String()},
		{name, "server resident set", fmt.Sprintf("%s (%s before they were created)", megabytes(r.rss), megabytes(r.before))},
		{name, "bytes per run in flight", fmt.Sprintf("%d B", r.perRun())},
	}
	if r.memory.wait > 0 {
		rows = append(rows, r.memory.row(name+", once etcd settled"),
			row{name + ", once etcd settled", "bytes per run in flight", fmt.Sprintf("%d B", r.settledPerRun())})
	}
	return rows
}

func (r inFlightResult) settledPerRun() int64 { return (r.memory.rss - r.before) / int64(r.n) }

// benchInFlight creates n runs of a one-step pipeline whose driver never
// connects, 64 creates at once, waits until the server has dispatched every
// step, then watches the idle server for idle.
func benchInFlight(ctx context.Context, client *sdk.Client, srv *ownServer, token, suffix string, n int, idle, tailWait, settleWait time.Duration) (inFlightResult, error) {
	typ, pipeline := "bench-"+suffix, "bench-absent-"+suffix
	if err := createBenchPipeline(ctx, client, typ, sdk.Pipeline{Name: pipeline, Resource: typ,
		Steps: []sdk.Step{{ID: "wait", Driver: "bench-absent-" + suffix}}}); err != nil {
		return inFlightResult{}, err
	}
	pid := srv.cmd.Process.Pid
	r := inFlightResult{n: n}
	var err error
	if r.before, err = residentMemory(pid); err != nil {
		return r, err
	}
	base, err := serverStepsDispatched(ctx, srv.api, token)
	if err != nil {
		return r, err
	}
	start := time.Now()
	if _, err := createRuns(ctx, client, typ, pipeline, "wait-", n, 64); err != nil {
		return r, err
	}
	// The engine's counter, not GET /drivers or the runs, tells when the
	// work is out: a driver that never connected has no consumer, so GET
	// /drivers shows no pending work for it; a run shows its step
	// dispatched once the event is recorded, before the engine publishes
	// the work, and reading that of every run would page through n runs.
	if err := waitCount(ctx, base+n, "in flight: steps dispatched", func() (int, error) {
		return serverStepsDispatched(ctx, srv.api, token)
	}); err != nil {
		return r, err
	}
	r.took = time.Since(start)
	returned := srv.returns.Load()
	if r.settled, err = settle(ctx, natsWithToken(srv.nats, token), srv.api, token); err != nil {
		return r, err
	}
	seen, from := srv.settles.Load(), time.Now()
	if r.tail, err = srv.waitTail(ctx, returned, tailWait); err != nil {
		return r, err
	}
	if r.cpu, err = idleCPU(ctx, pid, idle); err != nil {
		return r, err
	}
	if r.rss, err = residentMemory(pid); err != nil {
		return r, err
	}
	r.memory, err = srv.waitSettled(ctx, seen, from, settleWait)
	return r, err
}

// stepsDispatchedMetric counts the steps the server's engine published
// since it started.
const stepsDispatchedMetric = "conveyor_engine_steps_dispatched_total"

// serverStepsDispatched reads stepsDispatchedMetric from GET /metrics.
func serverStepsDispatched(ctx context.Context, api, token string) (int, error) {
	f, err := serverMetric(ctx, api, token, stepsDispatchedMetric)
	return int(f), err
}

// serverMetric reads one metric without labels from GET /metrics.
func serverMetric(ctx context.Context, api, token, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("GET /metrics has no %s", name)
}
