package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/conveyor/conveyor/sdk"
)

// validateScale refuses what the scale scenario (--history) cannot measure.
func (c benchConfig) validateScale() error {
	if c.History <= 0 {
		if c.InFlight > 0 {
			return errors.New("--inflight is part of the scale scenario: give --history too")
		}
		return nil
	}
	var errs []error
	if c.API != "" {
		errs = append(errs, errors.New("--history restarts the server it measures and reads its CPU and memory from /proc: "+
			"it starts a server of its own, so leave out --api and --nats"))
	}
	if c.Runs <= 0 {
		errs = append(errs, errors.New("--history compares the runs of an empty server with those on the history: give --runs > 0"))
	}
	if c.InFlight < 0 {
		errs = append(errs, errors.New("--inflight must not be negative"))
	}
	if c.Idle <= 0 {
		errs = append(errs, errors.New("--idle must be positive"))
	}
	return errors.Join(errs...)
}

// scaleServer is the server the scale scenario measures, with what its load
// reaches it by.
type scaleServer struct {
	*ownServer
	client *sdk.Client
	nats   string // with the admin token, for the drivers
	token  string
}

func connectScale(srv *ownServer) (scaleServer, error) {
	token := srv.adminToken()
	client, err := sdk.NewClient(sdk.WithBaseURL(srv.api), sdk.WithHTTPClient(benchHTTPClient()), sdk.WithToken(token))
	return scaleServer{ownServer: srv, client: client, nats: natsWithToken(srv.nats, token), token: token}, err
}

func (s scaleServer) pid() int { return s.cmd.Process.Pid }

// benchScale is the scale scenario: on a server of its own, the runs, the
// fan-out and the idle server, first empty, then with c.History finished
// runs behind it; the size of its data; the same server restarted on that
// history; then c.InFlight runs waiting. It ends with each figure beside
// its goal. Progress lines of the long fill go to progress.
func benchScale(ctx context.Context, c benchConfig, out, progress io.Writer) error {
	rows := newTable(out)
	extra := strings.Fields(c.ServerArgs)
	serverLog, closeLog, err := c.openServerLog()
	if err != nil {
		return err
	}
	defer closeLog()
	srv, err := startOwnServer(ctx, serverLog, extra...)
	if err != nil {
		return err
	}
	defer func() { srv.stop() }() // srv is the restarted server by then
	rows.print(row{"start-up", "process start to ready", srv.startup.Round(time.Millisecond).String()})
	s, err := connectScale(srv)
	if err != nil {
		return err
	}
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	r := scaleResult{history: c.History, inFlight: c.InFlight}
	if r.empty, err = measurePhase(ctx, c, s, "empty", suffix+"-e", rows); err != nil {
		return err
	}
	if err := fillHistory(ctx, c, s, suffix+"-f", rows, progress); err != nil {
		return err
	}
	if r.withHistory, err = measurePhase(ctx, c, s, "history", suffix+"-h", rows); err != nil {
		return err
	}
	srv.halt()
	again, err := startServerIn(ctx, srv.dir, serverLog, extra...)
	if err != nil {
		return fmt.Errorf("restart on the history: %w", err)
	}
	srv = again
	if s, err = connectScale(srv); err != nil {
		return err
	}
	if r.restarted, err = measureRestart(ctx, c, s, rows); err != nil {
		return err
	}
	if c.InFlight > 0 {
		f, err := benchInFlight(ctx, s.client, s.ownServer, s.token, suffix+"-i", c.InFlight, c.Idle, c.TailWait, c.SettleWait)
		if err != nil {
			return err
		}
		r.flight = &f
		rows.print(f.rows(c.Idle)...)
	}
	fmt.Fprintln(out)
	rows.print(r.goals()...)
	return nil
}

// phaseResult is what one phase measured: two-step runs, the fan-out, and
// then the idle server.
type phaseResult struct {
	runs runsResult
	idle idleResult
}

// measurePhase measures the runs and the fan-out on a resource type and
// pipelines of their own, named after suffix, then, once the server lists
// no run running, the idle server. Its rows are labelled with label.
//
// A type of its own, because resource names are unique within a type
// (benchRuns and benchFanout name theirs the same each time), and because
// a driver's new consumer on a type with history would first be handed
// the create of every resource made before: the figures would measure
// that backlog, not the server's history.
func measurePhase(ctx context.Context, c benchConfig, s scaleServer, label, suffix string, rows table) (phaseResult, error) {
	var p phaseResult
	typ := "bench-" + suffix
	if err := createBenchPipeline(ctx, s.client, typ, twoStepPipeline(typ, typ, suffix)); err != nil {
		return p, err
	}
	var err error
	if p.runs, err = benchRuns(ctx, s.client, s.nats, typ, typ, suffix, c.Runs); err != nil {
		return p, err
	}
	rows.print(labelled(label, p.runs.rows())...)
	if c.FanoutRuns > 0 {
		f, err := benchFanout(ctx, s.client, s.nats, typ, suffix, c.FanoutRuns)
		if err != nil {
			return p, err
		}
		rows.print(labelled(label, f.rows())...)
	}
	if err := waitRunsEnded(ctx, s.client, fillStall); err != nil {
		return p, err
	}
	p.idle, err = measureIdle(ctx, s, c.Idle, c.TailWait, c.SettleWait, label, rows)
	return p, err
}

// fillHistory makes the history: c.History finished runs on a resource type
// of their own, and prints the fill's rate and how the data directory grew.
func fillHistory(ctx context.Context, c benchConfig, s scaleServer, suffix string, rows table, progress io.Writer) error {
	typ := "bench-" + suffix
	if err := createBenchPipeline(ctx, s.client, typ, twoStepPipeline(typ, typ, suffix)); err != nil {
		return err
	}
	before, err := measureDataSizes(s.dir)
	if err != nil {
		return err
	}
	f, err := benchHistoryFill(ctx, s.client, s.nats, typ, typ, suffix, c.History, progress)
	if err != nil {
		return err
	}
	rows.print(f.rows()...)
	after, err := measureDataSizes(s.dir)
	if err != nil {
		return err
	}
	rows.print(sizeRows(before, after, c.History)...)
	return nil
}

// sizeRows are what the data directory takes on disk after a fill of n
// runs, and what it grew by per 1,000 of them.
func sizeRows(before, after dataSizes, n int) []row {
	total := fmt.Sprintf("on disk with %d runs of history", n)
	grew := "on disk, growth per 1,000 runs of history"
	per := func(b, a int64) string {
		return fmt.Sprintf("%s (%s → %s over the fill)", diskMegabytes((a-b)*1000/int64(n)), diskMegabytes(b), diskMegabytes(a))
	}
	return []row{
		{total, "event log (nats/)", diskMegabytes(after.log)},
		{total, "read models (etcd/)", diskMegabytes(after.models)},
		{total, "both", diskMegabytes(after.total())},
		{grew, "event log (nats/)", per(before.log, after.log)},
		{grew, "read models (etcd/)", per(before.models, after.models)},
		{grew, "both", per(before.total(), after.total())},
	}
}

// restartResult is what measureRestart measured of a server started on the
// history: from its process's start until its ready line and until its
// first answer to GET /runs; its resident set right after ready; and the
// server idle.
type restartResult struct {
	ready, serving time.Duration
	rss            int64
	idle           idleResult
}

func measureRestart(ctx context.Context, c benchConfig, s scaleServer, rows table) (restartResult, error) {
	r := restartResult{ready: s.startup}
	var err error
	if r.rss, err = residentMemory(s.pid()); err != nil {
		return r, err
	}
	if r.serving, err = firstRunsList(ctx, s); err != nil {
		return r, err
	}
	name := fmt.Sprintf("restart on %d runs of history", c.History)
	rows.print(
		row{name, "process start to ready", r.ready.Round(time.Millisecond).String()},
		row{name, "process start to first GET /runs", r.serving.Round(time.Millisecond).String()},
		row{name, "server resident set right after ready", residentParts(s.pid(), r.rss)})
	r.idle, err = measureIdle(ctx, s, c.Idle, c.TailWait, 0, "restarted", rows)
	return r, err
}

// firstRunsList asks GET /runs?limit=1 until it succeeds, for at most a
// minute, and returns the time since the server's process started.
func firstRunsList(ctx context.Context, s scaleServer) (time.Duration, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := s.client.Runs(ctx, sdk.RunFilter{}, sdk.Page{Limit: 1})
		if err == nil {
			return time.Since(s.started), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("GET /runs after the restart: %w", err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// idleResult is what measureIdle measured: the server's CPU while asked
// nothing, and then its resident set.
type idleResult struct {
	cpu     cpuShare
	rss     int64
	settled settledMemory
}

func measureIdle(ctx context.Context, s scaleServer, d, tailWait, settleWait time.Duration, label string, rows table) (idleResult, error) {
	var r idleResult
	returned := s.returns.Load()
	settled, err := settle(ctx, s.nats, s.api, s.token)
	if err != nil {
		return r, err
	}
	rows.print(row{label + ": settled", "no message left to handle after", settled.Round(time.Millisecond).String()})
	pid := s.pid()
	seen, from := s.settles.Load(), time.Now()
	tail, err := s.waitTail(ctx, returned, tailWait)
	if err != nil {
		return r, err
	}
	rows.print(tail.row(label))
	if r.cpu, err = idleCPU(ctx, pid, d); err != nil {
		return r, err
	}
	if r.rss, err = residentMemory(pid); err != nil {
		return r, err
	}
	rows.print(row{fmt.Sprintf("%s: idle for %v", label, d), "server CPU, % of one core", r.cpu.String()},
		row{label + ": idle", "server resident set", residentParts(pid, r.rss)})
	if settleWait <= 0 {
		return r, nil
	}
	if r.settled, err = s.waitSettled(ctx, seen, from, settleWait); err != nil {
		return r, err
	}
	rows.print(r.settled.row(label + ": once etcd settled"))
	return r, nil
}

// labelled puts label before each row's scenario.
func labelled(label string, rows []row) []row {
	for i := range rows {
		rows[i].scenario = label + ": " + rows[i].scenario
	}
	return rows
}

// createBenchPipeline creates the resource type typ and the pipeline p.
func createBenchPipeline(ctx context.Context, client *sdk.Client, typ string, p sdk.Pipeline) error {
	if _, err := client.CreateDefinition(ctx, benchDefinition(typ)); err != nil {
		return err
	}
	_, err := client.CreatePipeline(ctx, p)
	return err
}
