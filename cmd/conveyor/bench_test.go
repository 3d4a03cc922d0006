package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBenchRunsEveryScenario runs `conveyor bench` at a tiny size: it
// measures the machine's ceilings, starts its own server, goes through every
// scenario and prints a row for each, then each figure that has a goal
// beside it.
// Its figures are not checked: timing stays out of pass/fail tests.
func TestBenchRunsEveryScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	out, err := exec.Command(conveyorBinary(t), "bench", "--creates", "5", "--runs", "5", "--fanout-runs", "5", "--fill", "5").CombinedOutput()
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	for _, want := range []string{
		"ceiling: guarded publish, concurrency 1", "ceiling: guarded publish, concurrency 64",
		"ceiling: bare HTTP create, concurrency 1", "ceiling: bare HTTP create, concurrency 64", "ceiling: bare read of 50000 messages",
		"start-up", "create, concurrency 1", "create, concurrency 64", "5 two-step runs",
		"step-to-step, idle", "step-to-step, under load", "fill: 5 more resources",
		"memory after 50 resources", "5 fan-out/fan-in runs (1 → 10 → 1)", "fan-in: last of ten results → join", "replay: GET /events over", "rebuild:", "memory at the end",
		"goals", "p50 ≤ 0.45ms", "creates/s ≥ 7000", "creates/s ≥ 11000", "last step's work ≤ 0.5s",
		"p50 ≤ 5ms", "p50 ≤ 1ms", "resident set ≤ 100 MB", "events/s ≥ 200000", "(bare HTTP", "(bare read",
		"replay: the rebuild's", "until the new generation serves ≤ 30s",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("bench printed no %q row:\n%s", want, out)
		}
	}
}

// TestBenchScaleScenario runs `conveyor bench --history` at a tiny size: an
// empty server, a history of 60 runs, a restart on it, and 40 runs waiting
// on a driver that never connects. Each figure must be there and be a
// measurement (a number of the right sign), and none of the goals, set for
// sizes far larger, may be judged.
func TestBenchScaleScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	serverLog := filepath.Join(t.TempDir(), "server.log")
	cmd := exec.Command(conveyorBinary(t), "bench", "--history", "60", "--inflight", "40", "--idle", "1s", "--tail-wait", "2s", "--settle-wait", "0",
		"--runs", "20", "--fanout-runs", "5", "--ceilings=false", "--rebuild=false", "--server-log", serverLog)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	out := string(raw)
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, out, stderr.String())
	}
	if !strings.Contains(stderr.String(), "history fill: 60 of 60 runs") {
		t.Errorf("no progress line of the fill on stderr:\n%s", stderr.String())
	}
	// Both servers' logs, the first and the one restarted on the history,
	// were kept: each logged that it was ready.
	logged, err := os.ReadFile(serverLog)
	if n := len(readyLinePattern.FindAllIndex(logged, -1)); err != nil || n != 2 {
		t.Errorf("--server-log holds %d ready lines (%v), want 2, one per server started:\n%s", n, err, logged)
	}
	positive := func(f float64) bool { return f > 0 }
	notNegative := func(f float64) bool { return f >= 0 }
	anyNumber := func(float64) bool { return true }
	for _, c := range []struct {
		scenario, figure string
		ok               func(float64) bool
	}{
		{"empty: 20 two-step runs", "runs/s", positive},
		{"empty: step-to-step, under load", "p50 / p99", positive},
		{"empty: 5 fan-out/fan-in runs (1 → 10 → 1)", "steps/s", positive},
		{"empty: settled", "no message left to handle after", positive},
		{"empty: idle for 1s", "server CPU, % of one core", notNegative},
		{"empty: idle", "server resident set", positive},
		{"history fill, runs 1–60", "runs/s", positive},
		{"history fill: 60 runs", "until the server listed none running", positive},
		{"on disk with 60 runs of history", "event log (nats/)", positive},
		{"on disk with 60 runs of history", "read models (etcd/)", positive},
		{"on disk with 60 runs of history", "both", positive},
		{"on disk, growth per 1,000 runs of history", "event log (nats/)", anyNumber},
		{"on disk, growth per 1,000 runs of history", "read models (etcd/)", anyNumber},
		{"on disk, growth per 1,000 runs of history", "both", anyNumber},
		{"history: 20 two-step runs", "runs/s", positive},
		{"history: step-to-step, under load", "p50 / p99", positive},
		{"history: 5 fan-out/fan-in runs (1 → 10 → 1)", "steps/s", positive},
		{"history: settled", "no message left to handle after", positive},
		{"history: idle for 1s", "server CPU, % of one core", notNegative},
		{"history: idle", "server resident set", positive},
		{"restart on 60 runs of history", "process start to ready", positive},
		{"restart on 60 runs of history", "process start to first GET /runs", positive},
		{"restart on 60 runs of history", "server resident set right after ready", positive},
		{"restarted: settled", "no message left to handle after", positive},
		{"restarted: idle for 1s", "server CPU, % of one core", notNegative},
		{"restarted: idle", "server resident set", positive},
		{"in flight: 40 runs", "until every first step was dispatched", positive},
		{"in flight: 40 runs", "then no message left to handle after", positive},
		{"in flight: idle for 1s", "server CPU, % of one core", notNegative},
		{"in flight: 40 runs", "server resident set", positive},
		{"in flight: 40 runs", "bytes per run in flight", anyNumber},
	} {
		value, ok := benchValue(out, c.scenario, c.figure)
		if !ok {
			t.Errorf("no row %q / %q", c.scenario, c.figure)
			continue
		}
		f, err := leadingNumber(value)
		if err != nil || !c.ok(f) {
			t.Errorf("row %q / %q = %q: not a plausible figure (%v)", c.scenario, c.figure, value, err)
		}
	}
	for _, c := range []struct{ scenario, verdict string }{
		{"runs/s, history vs empty", "not judged: measured at 60, the goal is set at 100,000"},
		{"step-to-step p50 under load, history − empty", "not judged: measured at 60, the goal is set at 100,000"},
		{"idle CPU, with history", "not judged: measured at 60, the goal is set at 100,000"},
		{"idle CPU, restarted on the history", "not judged: measured at 60, the goal is set at 100,000"},
		{"resident set, history − empty", "not judged: measured at 60, the goal is set at 100,000"},
		{"idle CPU, runs in flight", "not judged: measured at 40, the goal is set at 50,000"},
		{"resident set, in flight − before", "not judged: measured at 40, the goal is set at 50,000"},
		{"the same, once etcd settled", notWaited},
		{"in flight, settled − empty, settled", notWaited},
	} {
		if value, ok := benchValue(out, c.scenario, ""); !ok || !strings.HasSuffix(value, c.verdict) {
			t.Errorf("goal %q: %q, want it to end %q", c.scenario, value, c.verdict)
		}
	}
	if value, ok := benchValue(out, "idle CPU, empty server", "≤ 2 % of one core"); !ok ||
		!(strings.HasSuffix(value, ": met") || strings.HasSuffix(value, ": missed")) {
		t.Errorf("goal of the empty server's idle CPU: %q, want it judged (no size to wait for)", value)
	}
	// Each idle window starts after the load's tail, a row of its own.
	for _, label := range []string{"empty", "history", "restarted", "in flight"} {
		value, ok := benchValue(out, label+": after the load", "memory handed back after, CPU meanwhile")
		if !ok {
			value, ok = benchValue(out, label+": after the load", "no memory handed back within, CPU meanwhile")
		}
		if _, err := leadingNumber(value); !ok || err != nil || !strings.HasSuffix(value, "of one core") {
			t.Errorf("the tail of %s's load: %q, want its length and CPU", label, value)
		}
	}
	if strings.Contains(out, "create, concurrency") {
		t.Errorf("the scale scenario ran the other scenarios too:\n%s", out)
	}
	if t.Failed() {
		t.Logf("bench printed:\n%s", out)
	}
}

// TestBenchRefusesHistoryOnAServerItDidNotStart: the scale scenario
// restarts its server and reads its /proc, so --api is refused.
func TestBenchRefusesHistoryOnAServerItDidNotStart(t *testing.T) {
	out, err := exec.Command(conveyorBinary(t), "bench", "--history", "10",
		"--api", "http://127.0.0.1:1", "--nats", "nats://127.0.0.1:2").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "leave out --api and --nats") {
		t.Errorf("bench --history --api: %v\n%s", err, out)
	}
}

// benchValue is the value of the first row of a bench table whose scenario
// is scenario and whose figure starts with figure.
func benchValue(out, scenario, figure string) (string, bool) {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, scenario+"  ")
		if !ok {
			continue
		}
		if rest, ok = strings.CutPrefix(strings.TrimSpace(rest), figure); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// leadingNumber reads the number a bench value starts with: a count, a
// rate, a percentage, a size in MB or B, or a duration, in seconds.
func leadingNumber(value string) (float64, error) {
	first, _, _ := strings.Cut(value, " ")
	first = strings.TrimSuffix(first, ",")
	if d, err := time.ParseDuration(first); err == nil {
		return d.Seconds(), nil
	}
	return strconv.ParseFloat(first, 64)
}
