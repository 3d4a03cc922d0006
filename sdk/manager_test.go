package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/sdk"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// wire starts NATS with the protocol's streams and returns a connection.
func wire(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	srv := embedtest.NATS(t, "")
	natsURL = srv.ClientURL()
	nc, js := embedtest.JetStream(t, srv)
	if err := protocol.EnsureStreams(context.Background(), js, protocol.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	// The server takes log lines in and stores them (masked); here there
	// are no secrets to mask.
	logs, err := protocol.MaskLogs(nc, unmasked{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logs.Drain() })
	return nc, js
}

// unmasked stores log lines as they are.
type unmasked struct{}

func (unmasked) Line(_ context.Context, _, _, line string) (string, error) { return line, nil }
func (unmasked) Masks(context.Context, string) (bool, error)               { return false, nil }

func publishWork(t *testing.T, js jetstream.JetStream, subject, runID, step string, r sdk.Resource) {
	t.Helper()
	payload, _ := json.Marshal(r)
	body, _ := json.Marshal(map[string]any{"event": "create", "payload": string(payload), "id": runID + "." + step + ".1",
		"run_id": runID, "step": step, "attempt": 1})
	if _, err := js.Publish(context.Background(), subject, body); err != nil {
		t.Fatal(err)
	}
}

// natsURL is the TCP address of the last server wire started.
var natsURL string

// anotherConn is a connection of its own to the last server wire started,
// as a second process of a driver has.
func anotherConn(t *testing.T) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// results collects what arrives on pipelines.driver.result.
func results(t *testing.T, js jetstream.JetStream) func(n int) []map[string]any {
	t.Helper()
	cons, err := js.CreateOrUpdateConsumer(context.Background(), "pipeline-engine", jetstream.ConsumerConfig{
		Durable: "test-results", FilterSubject: "pipelines.driver.result", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	return func(n int) []map[string]any {
		var out []map[string]any
		deadline := time.Now().Add(20 * time.Second)
		for len(out) < n && time.Now().Before(deadline) {
			batch, err := cons.Fetch(n-len(out), jetstream.FetchMaxWait(500*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			for msg := range batch.Messages() {
				var m map[string]any
				if err := json.Unmarshal(msg.Data(), &m); err != nil {
					t.Fatal(err)
				}
				out = append(out, m)
				_ = msg.Ack()
			}
		}
		return out
	}
}

func runManager(t *testing.T, nc *nats.Conn, d sdk.Driver, opts ...sdk.Option) (stop func()) {
	t.Helper()
	m, err := sdk.NewManager(d, append([]sdk.Option{sdk.WithConn(nc)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func TestStepResultOnTheWire(t *testing.T) {
	nc, js := wire(t)
	got := results(t, js)
	seen := make(chan sdk.Request, 1)
	runManager(t, nc, sdk.NewDriver("compiler", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		seen <- req
		return sdk.Result{Success: true, Message: "compiled", Data: map[string]any{"artifact": "a.tgz"}}
	}))
	publishWork(t, js, "drivers.compiler.resources.build", "run-1", "compile",
		sdk.Resource{Name: "app-1", Type: "build", Spec: json.RawMessage(`{"ref":"x"}`)})
	req := <-seen
	if req.Event != "create" || req.Resource.Name != "app-1" || req.RunID != "run-1" || req.Step != "compile" || req.Attempt != 1 {
		t.Errorf("request %+v", req)
	}
	res := got(1)
	if len(res) != 1 {
		t.Fatalf("results: %v", res)
	}
	r := res[0]
	dr := r["driverresult"].(map[string]any)
	if r["event"] != "driver.result" || r["run_id"] != "run-1" || r["step"] != "compile" ||
		dr["success"] != true || dr["message"] != "compiled" || dr["driver"] != "compiler" ||
		dr["data"].(map[string]any)["artifact"] != "a.tgz" || r["resource"].(map[string]any)["name"] != "app-1" {
		t.Errorf("result on the wire: %v", r)
	}
}

// TestADriverSaysWhatItDoes: a driver logs that it waits for work, and
// each piece of work it takes and its result.
func TestADriverSaysWhatItDoes(t *testing.T) {
	nc, js := wire(t)
	got := results(t, js)
	var buf syncBuffer
	stop := runManager(t, nc, sdk.NewDriver("compiler", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		return sdk.Result{Success: false, Message: "tests failed"}
	}), sdk.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	publishWork(t, js, "drivers.compiler.resources.build", "run-1", "compile", sdk.Resource{Name: "app-1", Type: "build"})
	if res := got(1); len(res) != 1 {
		t.Fatalf("results: %v", res)
	}
	stop()
	for _, want := range []string{`msg="waiting for work"`, `msg="work taken" driver=compiler subject=drivers.compiler.resources.build run=run-1 step=compile attempt=1`,
		`msg="work done" driver=compiler subject=drivers.compiler.resources.build run=run-1 step=compile attempt=1 success=false message="tests failed"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the driver's log lacks %s:\n%s", want, buf.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestPanicIsAFailedResult(t *testing.T) {
	nc, js := wire(t)
	got := results(t, js)
	runManager(t, nc, sdk.NewDriver("compiler", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		panic("boom")
	}))
	publishWork(t, js, "drivers.compiler.resources.build", "run-1", "compile", sdk.Resource{Name: "a", Type: "build"})
	res := got(1)
	if len(res) != 1 {
		t.Fatal("no result")
	}
	dr := res[0]["driverresult"].(map[string]any)
	if dr["success"] != false || dr["message"] != "driver compiler panicked: boom" {
		t.Errorf("result %v", dr)
	}
}

// TestWorkWaitsForTheDriver publishes work while no process of the driver
// runs; it is done when one starts.
func TestWorkWaitsForTheDriver(t *testing.T) {
	nc, js := wire(t)
	got := results(t, js)
	d := sdk.NewDriver("uploader", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		return sdk.Result{Success: true}
	})
	// A message can reach the stopping process's last pull request; it comes
	// back after the ack wait, which is short here.
	stop := runManager(t, nc, d, sdk.WithAckWait(time.Second)) // creates the durable consumer
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := js.Consumer(context.Background(), "messages", "uploader"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the durable consumer was not created")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	for i := range 5 {
		publishWork(t, js, "drivers.uploader.resources.build", fmt.Sprintf("run-%d", i), "upload", sdk.Resource{Name: "a", Type: "build"})
	}
	runManager(t, nc, d, sdk.WithAckWait(time.Second))
	if res := got(5); len(res) != 5 {
		t.Fatalf("%d of 5 results after the driver came back", len(res))
	}
}

// TestTwoProcessesSplitTheWork: two managers of one driver share 200
// messages; none is handled twice.
func TestTwoProcessesSplitTheWork(t *testing.T) {
	nc, js := wire(t)
	var mu sync.Mutex
	handled := map[string]int{}
	byProcess := map[int]int{}
	driver := func(process int) sdk.Driver {
		return sdk.NewDriver("worker", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
			// Slow enough that one process cannot take all the work before
			// the other has started, even on a loaded machine.
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			handled[req.RunID]++
			byProcess[process]++
			mu.Unlock()
			return sdk.Result{Success: true}
		})
	}
	nc2 := anotherConn(t)
	runManager(t, nc, driver(1), sdk.WithConcurrency(4))
	runManager(t, nc2, driver(2), sdk.WithConcurrency(4))
	const n = 200
	for i := range n {
		publishWork(t, js, "drivers.worker.resources.build", fmt.Sprintf("run-%03d", i), "s", sdk.Resource{Name: "a", Type: "build"})
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		done := len(handled)
		mu.Unlock()
		if done == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a duplicate would show up by now
	mu.Lock()
	defer mu.Unlock()
	if len(handled) != n {
		t.Fatalf("%d of %d messages handled", len(handled), n)
	}
	for id, times := range handled {
		if times != 1 {
			t.Errorf("%s handled %d times", id, times)
		}
	}
	if byProcess[1] == 0 || byProcess[2] == 0 {
		t.Errorf("work not shared: %v", byProcess)
	}
	t.Logf("split: %v", byProcess)
}

// TestLoggerSplitsLines: the logger as an io.Writer publishes one stored
// line per line written, in order, on logs.{run_id}.
func TestLoggerSplitsLines(t *testing.T) {
	nc, js := wire(t)
	done := make(chan struct{})
	runManager(t, nc, sdk.NewDriver("shell", []string{"job"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		fmt.Fprint(req.Log, "one\ntw")
		fmt.Fprint(req.Log, "o\nthree")
		req.Log.Flush()
		req.Log.Printf("four %d", 4)
		close(done)
		return sdk.Result{Success: true}
	}))
	publishWork(t, js, "drivers.shell.resources.job", "run-9", "s", sdk.Resource{Name: "a", Type: "job"})
	<-done
	stream, err := js.Stream(context.Background(), "logs")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	deadline := time.Now().Add(10 * time.Second)
	for len(lines) < 4 && time.Now().Before(deadline) {
		lines = nil
		cons, err := stream.OrderedConsumer(context.Background(), jetstream.OrderedConsumerConfig{FilterSubjects: []string{"logs.run-9"}})
		if err != nil {
			t.Fatal(err)
		}
		batch, _ := cons.FetchNoWait(10)
		for msg := range batch.Messages() {
			var l map[string]any
			_ = json.Unmarshal(msg.Data(), &l)
			if l["runid"] != "run-9" || l["driver"] != "shell" || l["timestamp"] == "" || l["time"] == "" {
				t.Errorf("line %v", l)
			}
			lines = append(lines, l["message"].(string))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if fmt.Sprint(lines) != "[one two three four 4]" {
		t.Errorf("stored lines %q", lines)
	}
}

func TestNewManagerRejectsBadDrivers(t *testing.T) {
	noop := func(context.Context, sdk.Request) sdk.Result { return sdk.Result{} }
	for _, d := range []sdk.Driver{
		sdk.NewDriver("Bad.Name", []string{"build"}, noop),
		sdk.NewDriver("ok", nil, noop),
		sdk.NewDriver("ok", []string{"a*"}, noop),
	} {
		if _, err := sdk.NewManager(d); err == nil {
			t.Errorf("driver %s %v accepted", d.Name(), d.Resources())
		}
	}
	if _, err := sdk.NewManager(sdk.NewDriver("ok", []string{"build"}, noop), sdk.WithConcurrency(0)); err == nil {
		t.Error("concurrency 0 accepted")
	}
}

// TestShutdownAbandonsWorkThatIgnoresItsContext: a reconcile that does not
// return when its context is cancelled holds Run no longer than the grace
// period plus sdk.AbandonAfter; its work is handed back and done by the
// next process of the driver.
func TestShutdownAbandonsWorkThatIgnoresItsContext(t *testing.T) {
	nc, js := wire(t)
	got := results(t, js)
	started, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	stubborn := sdk.NewDriver("worker", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		close(started)
		<-release // ignores ctx
		return sdk.Result{Success: true, Message: "from the abandoned reconcile"}
	})
	stop := runManager(t, nc, stubborn, sdk.WithGracePeriod(100*time.Millisecond))
	publishWork(t, js, "drivers.worker.resources.build", "run-1", "s", sdk.Resource{Name: "a", Type: "build"})
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("the work never started")
	}
	begun := time.Now()
	stop()
	took := time.Since(begun)
	t.Logf("Run returned %s after its context ended", took)
	if bound := 100*time.Millisecond + sdk.AbandonAfter + 2*time.Second; took > bound {
		t.Errorf("Run returned %s after its context ended, want within %s", took, bound)
	}
	runManager(t, nc, sdk.NewDriver("worker", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		return sdk.Result{Success: true, Message: "redone"}
	}))
	res := got(1)
	if len(res) != 1 || res[0]["driverresult"].(map[string]any)["message"] != "redone" {
		t.Errorf("results %v, want the work redone by the next process", res)
	}
}
