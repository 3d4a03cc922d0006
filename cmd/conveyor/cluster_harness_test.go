package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/sdk"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// cluster is the setting of one run of TestClusterReplicas: replicas share
// an etcd prefix of their own, and the names of the definition, pipeline
// and drivers are unique to the run, because the NATS streams and the
// engine's consumers outlive it.
type cluster struct {
	t                    *testing.T
	natsURL, prefix      string
	args                 []string
	definition, pipeline string
	compiler, uploader   string
	js                   jetstream.JetStream
	replicas             []*process
	before               map[string][2]uint64 // backlog() when the test began
}

func newCluster(t *testing.T, natsURL, etcd string) *cluster {
	run := fmt.Sprint(time.Now().UnixNano())
	c := &cluster{t: t, natsURL: natsURL, prefix: "/conveyor-replicas-" + run,
		definition: "build-" + run, pipeline: "ci-" + run, compiler: "compiler-" + run, uploader: "uploader-" + run}
	c.args = []string{"--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--nats-url", natsURL,
		"--etcd-endpoints", etcd, "--etcd-prefix", c.prefix, "--admin-token-file", providedAdminToken(t)}
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatalf("connect nats: %v", err)
	}
	if c.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	kv, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(etcd, ","), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("connect etcd: %v", err)
	}
	c.before = c.backlog()
	// Registered first, so it runs last, once every replica and driver is gone.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if t.Failed() {
			c.reportLogs()
			t.Logf("the read model is kept under etcd prefix %s", c.prefix)
		} else if _, err := kv.Delete(ctx, c.prefix+"/", clientv3.WithPrefix()); err != nil {
			t.Errorf("delete %s: %v", c.prefix, err)
		}
		for _, d := range []string{c.compiler, c.uploader} {
			_ = c.js.DeleteConsumer(ctx, protocol.MessagesStream, d)
		}
		_ = kv.Close()
		nc.Close()
	})
	return c
}

// start runs one more replica.
func (c *cluster) start() *process {
	p := startReplica(c.t, c.args...)
	c.replicas = append(c.replicas, p)
	return p
}

// startReplica runs `conveyor server args...` on the external NATS of its
// --nats-url. Its ready line shows that URL with the password redacted, so
// the process's endpoints take the URL it was given: the tests' own
// connections need the password.
func startReplica(t *testing.T, args ...string) *process {
	t.Helper()
	p := startBinary(t, nil, args...)
	p.at.NATS = flagArg(args, nil, "nats-url")
	return p
}

// api is a request helper for a replica's API.
func (c *cluster) api(p *process) *testServer {
	return &testServer{t: c.t, at: p.at, cfg: serverConfig{EtcdPrefix: c.prefix}, proc: p}
}

// reportLogs shows each replica's distinct warnings and errors, without
// times, message ids and worker numbers, with Run IDs as <id>, and how often
// each occurred.
func (c *cluster) reportLogs() {
	noise := regexp.MustCompile(`time=\S+ |message_uuid=\S+ |#[0-9]+`)
	ids := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	for i, p := range c.replicas {
		counts, distinct := map[string]int{}, []string(nil)
		for _, l := range strings.Split(p.output(), "\n") {
			if !strings.Contains(l, "level=WARN") && !strings.Contains(l, "level=ERROR") {
				continue
			}
			if l = ids.ReplaceAllString(noise.ReplaceAllString(l, ""), "<id>"); counts[l] == 0 {
				distinct = append(distinct, l)
			}
			counts[l]++
		}
		var b strings.Builder
		for _, l := range first(distinct, 30) {
			fmt.Fprintf(&b, "%6d× %s\n", counts[l], l)
		}
		c.t.Logf("replica %d (%s): %d distinct warnings and errors:\n%s", i, p.at.API, len(distinct), b.String())
	}
}

// setUp creates the definition and the two-step pipeline on the first
// replica and waits until every replica reads both.
func (c *cluster) setUp(replicas []*process) {
	s := c.api(replicas[0])
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": c.definition, "schema": buildDefinition["schema"]})
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": c.pipeline, "resource": c.definition,
		"steps": []map[string]any{{"id": "compile", "driver": c.compiler}, {"id": "upload", "driver": c.uploader}}})
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range replicas {
		for _, path := range []string{"/resource-definitions/" + c.definition, "/pipelines/" + c.pipeline} {
			for {
				status, _ := c.api(p).call("GET", path, nil)
				if status == http.StatusOK {
					break
				}
				if time.Now().After(deadline) {
					c.t.Fatalf("GET %s on %s: %d", path, p.at.API, status)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
}

// executions records every (run, step) a driver executed, and how often.
type executions struct {
	mu    sync.Mutex
	times map[string]int // "run/step" → executions
}

// runDriver runs an sdk driver of the run's definition in this process, on
// the server's NATS URL unless opts give another (sdk.WithNATSURL).
func (c *cluster) runDriver(name string, opts ...sdk.Option) *executions {
	ex := &executions{times: map[string]int{}}
	c.runDriverFunc(name, func(_ context.Context, req sdk.Request) sdk.Result {
		ex.mu.Lock()
		ex.times[req.RunID+"/"+req.Step]++
		ex.mu.Unlock()
		return sdk.Result{Success: true, Message: "done"}
	}, opts...)
	return ex
}

// runDriverFunc runs an sdk driver of the run's definition that reconciles
// with reconcile, as runDriver does.
func (c *cluster) runDriverFunc(name string, reconcile sdk.DriverFunc, opts ...sdk.Option) {
	m, err := sdk.NewManager(sdk.NewDriver(name, []string{c.definition}, reconcile),
		append([]sdk.Option{sdk.WithNATSURL(c.natsURL), sdk.WithConcurrency(8)}, opts...)...)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	c.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			c.t.Errorf("driver %s: %v", name, err)
		}
	})
}

// check asserts that the driver executed step of each run once, and nothing else.
func (ex *executions) check(t *testing.T, step string, runs []string) {
	t.Helper()
	ex.mu.Lock()
	defer ex.mu.Unlock()
	var twice, missing []string
	for key, n := range ex.times {
		if n != 1 {
			twice = append(twice, fmt.Sprintf("%s ×%d", key, n))
		}
	}
	for _, id := range runs {
		if ex.times[id+"/"+step] == 0 {
			missing = append(missing, id)
		}
	}
	if len(twice) > 0 {
		t.Errorf("step %s: %d (run, step) executed more than once: %v", step, len(twice), first(twice, 10))
	}
	if len(missing) > 0 {
		t.Errorf("step %s: %d runs never executed it: %v", step, len(missing), first(missing, 10))
	}
	if len(ex.times) != len(runs) {
		t.Errorf("step %s: executed for %d (run, step), want %d (one per run)", step, len(ex.times), len(runs))
	}
}

// first sorts s and returns its first n.
func first(s []string, n int) []string {
	slices.Sort(s)
	return s[:min(n, len(s))]
}

// waitRuns polls GET /runs/{id} on the replicas in turn until every run has
// ended or the deadline passed, and returns each run's last answer.
func (c *cluster) waitRuns(replicas []*process, ids []string, deadline time.Time) map[string]map[string]any {
	last := map[string]map[string]any{}
	pending := slices.Clone(ids)
	for k := 0; len(pending) > 0; {
		var still []string
		for _, id := range pending {
			status, run := c.api(replicas[k%len(replicas)]).call("GET", "/runs/"+id, nil)
			k++
			if status != http.StatusOK {
				run = map[string]any{"status": fmt.Sprintf("HTTP %d", status), "answer": run}
			}
			last[id] = run
			if status != http.StatusOK || run["status"] == "running" || run["status"] == "queued" {
				still = append(still, id)
			}
		}
		pending = still
		if len(pending) > 0 && time.Now().After(deadline) {
			c.t.Errorf("%d runs had not ended by the deadline, for example %v", len(pending), first(pending, 5))
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return last
}

// resourceRuns waits until each resource named exists and returns the Run
// IDs of each, sorted; a resource that does not exist by the deadline has
// none. (One request per resource: GET /runs?resource= is one page.)
func (c *cluster) resourceRuns(s *testServer, names []string, deadline time.Time) map[string][]string {
	runs := map[string][]string{}
	for _, name := range names {
		key := c.definition + "/" + name
		for {
			status, _ := s.call("GET", "/resources/"+key, nil)
			if status == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				c.t.Errorf("resource %s: GET answers %d", key, status)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		for _, item := range s.must(http.StatusOK, "GET", "/runs?resource="+url.QueryEscape(key), nil)["items"].([]any) {
			runs[name] = append(runs[name], item.(map[string]any)["id"].(string))
		}
		slices.Sort(runs[name])
	}
	return runs
}

// backlog is, for each durable consumer the replicas and drivers share, how
// many messages it has not delivered yet and how many await an
// acknowledgement; a consumer that does not exist has none.
func (c *cluster) backlog() map[string][2]uint64 {
	out := map[string][2]uint64{}
	for _, sc := range [][2]string{{"CONVEYOR_EVENTS", engineConsumer},
		{protocol.EngineStream, protocol.IntakeConsumer}, {protocol.MessagesStream, c.compiler}, {protocol.MessagesStream, c.uploader}} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cons, err := c.js.Consumer(ctx, sc[0], sc[1])
		if err == nil {
			var info *jetstream.ConsumerInfo
			if info, err = cons.Info(ctx); err == nil {
				out[sc[1]] = [2]uint64{info.NumPending, uint64(info.NumAckPending)}
			}
		}
		cancel()
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			c.t.Fatalf("consumer %s: %v", sc[1], err)
		}
	}
	return out
}

// waitDrained waits until the shared consumers have delivered everything
// and no more messages await an acknowledgement than before the test began
// (an earlier run may have left some behind).
func (c *cluster) waitDrained(deadline time.Time) {
	for {
		var busy []string
		for name, n := range c.backlog() {
			if n[0] > 0 || n[1] > c.before[name][1] {
				busy = append(busy, fmt.Sprintf("%s: %d undelivered, %d awaiting ack (%d before the test)", name, n[0], n[1], c.before[name][1]))
			}
		}
		if len(busy) == 0 {
			return
		}
		if time.Now().After(deadline) {
			slices.Sort(busy)
			c.t.Errorf("consumers not drained by the deadline: %s", strings.Join(busy, "; "))
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}
