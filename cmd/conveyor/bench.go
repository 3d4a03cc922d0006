package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

// benchConfig is what `conveyor bench` is told.
type benchConfig struct {
	API, NATS  string
	Creates    int
	Runs       int
	FanoutRuns int
	Fill       int
	Rebuild    bool
	Ceilings   bool
	ServerArgs string
	// Token is the API token the load is sent with.
	Token string
}

// runBench is `conveyor bench`: a load generator that speaks only the REST
// API and the driver protocol (its drivers are built on the sdk). Without
// --api it starts a server of its own, from this binary, in a temporary
// directory.
func runBench(ctx context.Context, args []string) int {
	var c benchConfig
	fs := flag.NewFlagSet("conveyor bench", flag.ContinueOnError)
	fs.StringVar(&c.API, "api", "", "URL of the server to measure (empty: start one)")
	fs.StringVar(&c.NATS, "nats", "", "NATS URL of that server, for the drivers")
	fs.IntVar(&c.Creates, "creates", 2000, "resources created per concurrency level")
	fs.IntVar(&c.Runs, "runs", 1000, "two-step pipeline runs")
	fs.IntVar(&c.FanoutRuns, "fanout-runs", 1000, "runs of a ten-wide fan-out/fan-in pipeline (split, ten steps side by side, join)")
	fs.IntVar(&c.Fill, "fill", 0, "resources created (at concurrency 64) before the replay, to make the log longer")
	fs.BoolVar(&c.Rebuild, "rebuild", true, "rebuild the read models from the log and time it")
	fs.BoolVar(&c.Ceilings, "ceilings", true, "first measure this machine's ceilings: a bare guarded JetStream publish and a bare HTTP create, --creates times each, and a bare read of the log")
	fs.StringVar(&c.ServerArgs, "server-args", "", "more flags for the server it starts, e.g. --sync-always")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load generator to this file (profile the server with --server-args=--debug-addr=HOST:PORT)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return 2
	}
	if (c.API == "") != (c.NATS == "") {
		fmt.Fprintln(os.Stderr, "conveyor bench: give both --api and --nats, or neither")
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "conveyor bench:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "conveyor bench:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if err := bench(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "conveyor bench:", err)
		return 1
	}
	return 0
}

type row struct{ scenario, figure, value string }

// table prints each row as soon as its scenario ends, so a long benchmark
// shows its figures as it goes and keeps them if a later scenario fails.
type table struct{ out io.Writer }

func newTable(out io.Writer) table {
	t := table{out}
	t.print(row{"scenario", "figure", "value"})
	return t
}

func (t table) print(rows ...row) {
	for _, r := range rows {
		fmt.Fprintf(t.out, "%-44s  %-36s  %s\n", r.scenario, r.figure, r.value)
	}
}

func bench(ctx context.Context, c benchConfig, out io.Writer) error {
	rows := newTable(out)
	sum := summary{creates: map[int]loadResult{}}
	if c.Ceilings {
		ceil, err := benchCeilings(ctx, c.Creates, rows)
		if err != nil {
			return err
		}
		sum.ceilings = &ceil
	}
	var serverPID int
	if c.API == "" {
		srv, err := startOwnServer(ctx, strings.Fields(c.ServerArgs)...)
		if err != nil {
			return err
		}
		defer srv.stop()
		c.API, c.NATS, serverPID = srv.api, srv.nats, srv.cmd.Process.Pid
		c.Token = resolveToken("", c.API, func(name string) string {
			if name == "CONVEYOR_DATA_DIR" {
				return srv.dir
			}
			return ""
		})
		// Its drivers connect to NATS with the admin token, which NATS takes
		// for an operator's: the bench measures the server, not permissions.
		c.NATS = natsWithToken(c.NATS, c.Token)
		rows.print(row{"start-up", "process start to ready", srv.startup.Round(time.Millisecond).String()})
	} else {
		c.Token = resolveToken("", c.API, os.Getenv)
	}
	client, err := sdk.NewClient(sdk.WithBaseURL(c.API), sdk.WithHTTPClient(benchHTTPClient()), sdk.WithToken(c.Token))
	if err != nil {
		return err
	}
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	typ, pipeline := "bench-"+suffix, "bench-"+suffix
	if _, err := client.CreateDefinition(ctx, sdk.ResourceDefinition{Name: typ,
		Schema: []byte(`{"type":"object","properties":{"n":{"type":"integer"}}}`)}); err != nil {
		return err
	}
	created := 0
	for _, conc := range []int{1, 16, 64} {
		r, err := benchCreates(ctx, client, typ, fmt.Sprintf("c%d-", conc), c.Creates, conc)
		if err != nil {
			return err
		}
		created += c.Creates
		sum.creates[conc] = r
		rows.print(r.rows(fmt.Sprintf("create, concurrency %d", conc), "creates/s")...)
	}
	authRows, err := benchAuthCost(percentile(sum.creates[1].lat, 50))
	if err != nil {
		return err
	}
	rows.print(authRows...)
	if _, err := client.CreatePipeline(ctx, sdk.Pipeline{Name: pipeline, Resource: typ,
		Steps: []sdk.Step{{ID: "first", Driver: "bench-first-" + suffix}, {ID: "second", Driver: "bench-second-" + suffix}}}); err != nil {
		return err
	}
	if c.Runs > 0 {
		r, err := benchRuns(ctx, client, c.NATS, typ, pipeline, suffix, c.Runs)
		if err != nil {
			return err
		}
		created += c.Runs + idleRuns
		sum.runs = &r
		rows.print(r.rows()...)
	}
	if c.FanoutRuns > 0 {
		r, err := benchFanout(ctx, client, c.NATS, typ, suffix, c.FanoutRuns)
		if err != nil {
			return err
		}
		created += c.FanoutRuns
		rows.print(r.rows()...)
	}
	if c.Fill > 0 {
		r, err := benchCreates(ctx, client, typ, "fill-", c.Fill, 64)
		if err != nil {
			return err
		}
		created += c.Fill
		rows.print(r.rows(fmt.Sprintf("fill: %d more resources", c.Fill), "creates/s")[0])
	}
	if serverPID != 0 {
		mem, err := residentMemory(serverPID)
		sum.resources, sum.memory = created, mem
		rows.print(memoryRow(fmt.Sprintf("memory after %d resources", created), mem, err))
	}
	r, err := benchReplay(ctx, client, c.Token)
	if err != nil {
		return err
	}
	sum.replay = r
	rows.print(r.rows()...)
	if c.Rebuild {
		r, err := benchRebuild(ctx, c.API, c.Token)
		if err != nil {
			return err
		}
		sum.rebuild = &r
		rows.print(r.rows...)
	}
	if serverPID != 0 {
		mem, err := residentMemory(serverPID)
		rows.print(memoryRow("memory at the end", mem, err))
	}
	fmt.Fprintln(out)
	rows.print(sum.rows()...)
	return nil
}

// loadResult is what one load run measured: n operations in elapsed, and
// each one's latency.
type loadResult struct {
	n       int
	elapsed time.Duration
	lat     []time.Duration
}

func (r loadResult) perSecond() float64 { return float64(r.n) / r.elapsed.Seconds() }

// rows are the throughput, named by unit (e.g. "creates/s"), and the
// latency percentiles.
func (r loadResult) rows(name, unit string) []row {
	return []row{
		{name, unit, fmt.Sprintf("%.0f", r.perSecond())},
		{name, "p50 / p99", fmt.Sprintf("%v / %v", percentile(r.lat, 50), percentile(r.lat, 99))},
	}
}

// runLoad is the load generator: conc workers take the operations 0..n-1 in
// turn, each calling op(ctx, worker, i), until all are done or one fails.
// A worker index is used by one goroutine only, so op may keep per-worker
// state in a slice indexed by it.
func runLoad(ctx context.Context, n, conc int, op func(ctx context.Context, worker, i int) error) (loadResult, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				err := op(ctx, w, i)
				lat[i] = time.Since(t0)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return loadResult{}, firstErr
	}
	return loadResult{n: n, elapsed: time.Since(start), lat: lat}, nil
}

// benchCreates creates n resources with conc concurrent clients.
func benchCreates(ctx context.Context, client *sdk.Client, typ, prefix string, n, conc int) (loadResult, error) {
	return runLoad(ctx, n, conc, func(ctx context.Context, _, i int) error {
		_, err := client.CreateResource(ctx, sdk.Resource{Name: fmt.Sprintf("%s%d", prefix, i), Type: typ, Spec: []byte(`{"n":1}`)})
		return err
	})
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	return s[max(0, min(i, len(s))-1)].Round(10 * time.Microsecond)
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

func (r runsResult) rows() []row {
	name := fmt.Sprintf("%d two-step runs", r.n)
	return []row{
		{name, "until the last step's work arrived", r.took.Round(time.Millisecond).String()},
		{name, "runs/s", fmt.Sprintf("%.0f", float64(r.n)/r.took.Seconds())},
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
		m, err := sdk.NewManager(d, sdk.WithNATSURL(natsURL), sdk.WithConcurrency(64))
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

// benchHTTPClient keeps a connection open for every concurrent request of
// the generator (Go's default keeps two per host, so at concurrency 64 most
// requests would open a new connection and measure the handshake).
func benchHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}

// natsWithToken puts token into a nats:// URL's user part, where drivers
// take their credentials from; the URL as it was when token is empty.
func natsWithToken(raw, token string) string {
	u, err := url.Parse(raw)
	if err != nil || token == "" {
		return raw
	}
	u.User = url.User(token)
	return u.String()
}
