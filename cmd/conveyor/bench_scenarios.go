package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/conveyor/conveyor/adapters/etcdserver"
	"github.com/conveyor/conveyor/sdk"
)

// ownServer is a `conveyor server` the benchmark started from this binary.
type ownServer struct {
	cmd       *exec.Cmd
	dir       string
	api, nats string
	started   time.Time     // when the process was started
	startup   time.Duration // from started to its ready line
	// settles counts the lines the server logged once its embedded etcd
	// settled after writes stopped (etcdserver.SettledMessage); returns
	// those it logged when it handed free memory back after a burst
	// (memoryReturnedMessage).
	settles, returns atomic.Int64
	// closeLog, when set, closes the file its log is copied to, once it
	// stopped.
	closeLog func()
}

// startOwnServer runs this binary as a server in a new temporary directory
// and waits for its ready line. Every line the server logs is also written
// to log, when it is not nil.
func startOwnServer(ctx context.Context, log io.Writer, extra ...string) (*ownServer, error) {
	dir, err := os.MkdirTemp("", "conveyor-bench-")
	if err != nil {
		return nil, err
	}
	s, err := startServerIn(ctx, dir, log, extra...)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// startServerIn runs this binary as a server on the data directory dir,
// new or left by a server halted before, and waits for its ready line;
// every line it logs is also written to log, when it is not nil.
func startServerIn(ctx context.Context, dir string, log io.Writer, extra ...string) (*ownServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := append([]string{"server", "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", dir}, extra...)
	cmd := exec.CommandContext(ctx, self, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &ownServer{cmd: cmd, dir: dir, started: started}
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		settled := `msg="` + etcdserver.SettledMessage + `"`
		returned := `msg="` + memoryReturnedMessage + `"`
		for sc.Scan() {
			if log != nil {
				fmt.Fprintln(log, sc.Text())
			}
			if m := readyLinePattern.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m
			}
			switch {
			case strings.Contains(sc.Text(), settled):
				s.settles.Add(1)
			case strings.Contains(sc.Text(), returned):
				s.returns.Add(1)
			}
		}
	}()
	select {
	case m := <-ready:
		s.startup, s.api, s.nats = time.Since(started), m[1], m[2]
		return s, nil
	case <-time.After(30 * time.Second):
		s.halt()
		return nil, errors.New("the server was not ready within 30s")
	}
}

// adminToken is the admin token the server keeps in its data directory.
func (s *ownServer) adminToken() string {
	return resolveToken("", s.api, func(name string) string {
		if name == "CONVEYOR_DATA_DIR" {
			return s.dir
		}
		return ""
	})
}

// halt interrupts the server, as an operator's Ctrl-C would, and waits for
// it to exit (killing it after 15s). Its data directory stays.
func (s *ownServer) halt() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// stop halts the server and removes its data directory.
func (s *ownServer) stop() {
	s.halt()
	os.RemoveAll(s.dir)
	if s.closeLog != nil {
		s.closeLog()
	}
}

// residentMemory reads a process's resident set from /proc, in bytes.
func residentMemory(pid int) (int64, error) {
	rss, err := procStatusKB(pid, "VmRSS")
	return rss[0], err
}

// procStatusKB reads the named fields, in kB, of a process's
// /proc/{pid}/status, as bytes.
func procStatusKB(pid int, names ...string) ([]int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return make([]int64, len(names)), err
	}
	out := make([]int64, len(names))
	for i, name := range names {
		_, rest, ok := strings.Cut(string(data), "\n"+name+":")
		if !ok {
			return out, fmt.Errorf("no %s in /proc status", name)
		}
		line, _, _ := strings.Cut(rest, "\n")
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(line), " kB"), 10, 64)
		if err != nil {
			return out, fmt.Errorf("%s in /proc status: %w", name, err)
		}
		out[i] = n << 10
	}
	return out, nil
}

// residentParts says what a resident set of rss bytes holds: the process's
// own memory, and the pages of files it maps (etcd maps its whole file; the
// kernel takes such pages back under memory pressure, and a restart maps
// none of them until they are read).
func residentParts(pid int, rss int64) string {
	parts, err := procStatusKB(pid, "RssAnon", "RssFile")
	if err != nil {
		return megabytes(rss)
	}
	return fmt.Sprintf("%s (%s anonymous, %s of mapped files)", megabytes(rss), megabytes(parts[0]), megabytes(parts[1]))
}

// memoryRow is the row of a resident set as residentMemory read it.
func memoryRow(scenario string, bytes int64, err error) row {
	if err != nil {
		return row{scenario, "server resident set", "unknown: " + err.Error()}
	}
	return row{scenario, "server resident set", megabytes(bytes)}
}

func megabytes(bytes int64) string { return fmt.Sprintf("%.0f MB", float64(bytes)/1e6) }

// replayResult is what benchReplay measured: events read in took.
type replayResult struct {
	events int
	took   time.Duration
}

func (r replayResult) perSecond() float64 { return float64(r.events) / r.took.Seconds() }

func (r replayResult) rows() []row {
	name := fmt.Sprintf("replay: GET /events over %d events", r.events)
	return []row{{name, "events/s", fmt.Sprintf("%.0f (%v)", r.perSecond(), r.took.Round(time.Millisecond))}}
}

// benchReplay pages through the whole event log with GET /events.
func benchReplay(ctx context.Context, client *sdk.Client, token string) (replayResult, error) {
	client, err := sdk.NewClient(sdk.WithBaseURL(client.BaseURL()), sdk.WithHTTPClient(&http.Client{Timeout: 5 * time.Minute}), sdk.WithToken(token))
	if err != nil {
		return replayResult{}, err
	}
	start := time.Now()
	var n int
	f := sdk.EventFilter{Limit: 1000}
	for {
		page, err := client.Events(ctx, f)
		if err != nil {
			return replayResult{}, err
		}
		n += len(page.Items)
		if page.Next == 0 {
			break
		}
		f.After = page.Next
	}
	return replayResult{events: n, took: time.Since(start)}, nil
}

// rebuildResult is what benchRebuild measured.
type rebuildResult struct {
	rows     []row
	events   uint64
	serving  time.Duration // until the new generation served
	replayed uint64        // events the server replayed into memory
	replay   time.Duration // until the last of them
}

func (r rebuildResult) replayPerSecond() float64 { return float64(r.replayed) / r.replay.Seconds() }

// benchRebuild rebuilds the read models through the admin endpoint.
func benchRebuild(ctx context.Context, api, token string) (rebuildResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/admin/projections/rebuild", nil)
	if err != nil {
		return rebuildResult{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return rebuildResult{}, err
	}
	defer resp.Body.Close()
	var report struct {
		Events uint64 `json:"events"`
		Keys   int    `json:"keys"`
	}
	// The phases overlap (the write goes on while the log is replayed), so
	// each is timed by when its last line arrived, counted from the start.
	var phases []string
	ended := map[string]time.Duration{}
	var replayed uint64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var line struct {
			Error  string          `json:"error"`
			Phase  string          `json:"phase"`
			Done   uint64          `json:"done"`
			Result json.RawMessage `json:"result"`
		}
		_ = json.Unmarshal(sc.Bytes(), &line)
		if line.Error != "" {
			return rebuildResult{}, errors.New(line.Error)
		}
		if line.Result != nil {
			_ = json.Unmarshal(line.Result, &report)
			line.Phase = "drop of the old generation"
		}
		if line.Phase == "replay" {
			replayed = line.Done
		}
		if _, seen := ended[line.Phase]; !seen && line.Phase != "" {
			phases = append(phases, line.Phase)
		}
		ended[line.Phase] = time.Since(start)
	}
	var took []string
	for _, p := range phases {
		took = append(took, fmt.Sprintf("%s %v", p, ended[p].Round(time.Millisecond)))
	}
	total := time.Since(start)
	r := rebuildResult{events: report.Events, serving: ended["switched"], replayed: replayed, replay: ended["replay"]}
	name := fmt.Sprintf("rebuild: %d events into %d keys", report.Events, report.Keys)
	r.rows = []row{
		{name, "events/s", fmt.Sprintf("%.0f (%v)", float64(report.Events)/total.Seconds(), total.Round(time.Millisecond))},
		{name, "until the new generation serves", r.serving.Round(time.Millisecond).String()},
		{name, "phases ended after", strings.Join(took, ", ")},
		{"replay: the rebuild's, in the server", "events/s", fmt.Sprintf("%.0f (%d events in %v, projected into memory)",
			r.replayPerSecond(), replayed, r.replay.Round(time.Millisecond))},
	}
	return r, nil
}
