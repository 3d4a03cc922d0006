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
	// ServerLog, when set, is a file every line of the log of the server
	// the bench starts is appended to.
	ServerLog string
	// History, when > 0, runs the scale scenario instead of the others:
	// the same figures on an empty server and with History finished runs
	// behind it, then with InFlight runs waiting; Idle is how long each
	// idle CPU is measured; TailWait how long, after a load, the memory
	// it took is waited for before that; SettleWait how long, from the
	// end of a load, the memory once etcd settled is waited for (0: not).
	History    int
	InFlight   int
	Idle       time.Duration
	TailWait   time.Duration
	SettleWait time.Duration
	// LogLines, when > 0, runs the log scenario instead of the others:
	// this many lines into a run without secrets and into one with.
	LogLines int
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
	fs.StringVar(&c.ServerLog, "server-log", "", "append every line the server it starts logs to this file")
	fs.IntVar(&c.History, "history", 0, "run the scale scenario instead: runs, fan-out, idle CPU and memory on an empty server, then again with this many finished runs of history, with disk size and restart time (needs a server it starts)")
	fs.IntVar(&c.InFlight, "inflight", 0, "with --history: then this many runs waiting for a driver that never connects, for idle CPU and memory per run in flight")
	fs.DurationVar(&c.Idle, "idle", 60*time.Second, "with --history: how long each idle server's CPU is measured")
	fs.DurationVar(&c.TailWait, "tail-wait", 25*time.Second, "with --history: how long, after each load, to wait for the server to hand back the memory it took before the idle window starts (it looks every 10 s)")
	fs.DurationVar(&c.SettleWait, "settle-wait", 3*time.Minute, "with --history: how long, from the end of each load, to wait for the server's etcd to settle (it does 2 minutes after its last write) and then read its resident set; 0: not")
	fs.IntVar(&c.LogLines, "log-lines", 0, "run the log scenario instead: this many lines of 1 KiB published as a driver does (logs.{run_id}) into a run granted no secret, then into one granted a secret; lines/s stored and, for a server of its own, its CPU per line")
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
	if c.LogLines > 0 && c.History > 0 {
		fmt.Fprintln(os.Stderr, "conveyor bench: --log-lines and --history are two scenarios: give one")
		return 2
	}
	if err := c.validateScale(); err != nil {
		fmt.Fprintln(os.Stderr, "conveyor bench:", err)
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
	run := bench
	if c.LogLines > 0 {
		run = benchLogs
	}
	if c.History > 0 {
		run = func(ctx context.Context, c benchConfig, out io.Writer) error {
			return benchScale(ctx, c, out, os.Stderr)
		}
	}
	if err := run(ctx, c, os.Stdout); err != nil {
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
	srv, err := c.target(ctx)
	if err != nil {
		return err
	}
	var serverPID int
	if srv != nil {
		defer srv.stop()
		serverPID = srv.cmd.Process.Pid
		rows.print(row{"start-up", "process start to ready", srv.startup.Round(time.Millisecond).String()})
	}
	client, err := sdk.NewClient(sdk.WithBaseURL(c.API), sdk.WithHTTPClient(benchHTTPClient()), sdk.WithToken(c.Token))
	if err != nil {
		return err
	}
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	typ, pipeline := "bench-"+suffix, "bench-"+suffix
	if _, err := client.CreateDefinition(ctx, benchDefinition(typ)); err != nil {
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
	if _, err := client.CreatePipeline(ctx, twoStepPipeline(pipeline, typ, suffix)); err != nil {
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

// openServerLog opens the file the server's log is appended to
// (--server-log): nil and a close that does nothing when none is asked for.
func (c *benchConfig) openServerLog() (io.Writer, func(), error) {
	if c.ServerLog == "" {
		return nil, func() {}, nil
	}
	f, err := os.OpenFile(c.ServerLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("--server-log: %w", err)
	}
	return f, func() { _ = f.Close() }, nil
}

// target points c at the server to measure. Without --api that is a
// server of its own, returned for the caller to stop (nil otherwise); its
// drivers connect to NATS with its admin token, which NATS takes for an
// operator's: the bench measures the server, not permissions.
func (c *benchConfig) target(ctx context.Context) (*ownServer, error) {
	if c.API != "" {
		c.Token = resolveToken("", c.API, os.Getenv)
		return nil, nil
	}
	serverLog, closeLog, err := c.openServerLog()
	if err != nil {
		return nil, err
	}
	srv, err := startOwnServer(ctx, serverLog, strings.Fields(c.ServerArgs)...)
	if err != nil {
		closeLog()
		return nil, err
	}
	srv.closeLog = closeLog
	c.API, c.Token = srv.api, srv.adminToken()
	c.NATS = natsWithToken(srv.nats, c.Token)
	return srv, nil
}

// benchDefinition is the resource type the bench creates its resources of.
func benchDefinition(typ string) sdk.ResourceDefinition {
	return sdk.ResourceDefinition{Name: typ, Schema: []byte(`{"type":"object","properties":{"n":{"type":"integer"}}}`)}
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

// createRuns creates n resources of typ that name pipeline, prefix0 to
// prefix{n-1}, with conc concurrent clients: n runs.
func createRuns(ctx context.Context, client *sdk.Client, typ, pipeline, prefix string, n, conc int) (loadResult, error) {
	return runLoad(ctx, n, conc, func(ctx context.Context, _, i int) error {
		_, err := client.CreateResource(ctx, sdk.Resource{Name: fmt.Sprintf("%s%d", prefix, i), Type: typ, Pipeline: pipeline, Spec: []byte(`{}`)})
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
