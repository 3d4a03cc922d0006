package sdk_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/sdk"
	"github.com/nats-io/nats.go/jetstream"
)

// TestWorkHandedOutAgainRunsOnce: the same step attempt arrives three times,
// as after a server crash that lost its consumer's position: once to run,
// again while it runs, and again after its result was stored and the work
// acknowledged. Reconcile runs once, with the attempt's idempotency key; the
// repeats are acknowledged and the run's log says why they did not run.
//
// The third comes once the server has the work's ack, not merely its
// result: the server stores the result before the driver hears so, and a
// delivery in between is one that "runs here" (not run twice either). The
// driver remembers the result as stored before it acknowledges the work.
func TestWorkHandedOutAgainRunsOnce(t *testing.T) {
	nc, js := wire(t)
	got := results(t, js)
	var (
		mu   sync.Mutex
		keys []string
	)
	started, release := make(chan struct{}, 4), make(chan struct{})
	runManager(t, nc, sdk.NewDriver("compiler", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		mu.Lock()
		keys = append(keys, req.IdempotencyKey)
		mu.Unlock()
		started <- struct{}{}
		<-release
		return sdk.Result{Success: true, Message: "compiled"}
	}), sdk.WithConcurrency(4))
	work := sdk.Resource{Name: "app-1", Type: "build"}

	publishWork(t, js, "drivers.compiler.resources.build", "run-1", "compile", work)
	<-started
	publishWork(t, js, "drivers.compiler.resources.build", "run-1", "compile", work)
	waitForLogLine(t, js, "run-1", "delivered again while it runs here (run-1.compile.1); not run twice")
	close(release)
	if res := got(1); len(res) != 1 || res[0]["driverresult"].(map[string]any)["success"] != true {
		t.Fatalf("results %v", res)
	}
	waitAllAcked(t, js, "compiler")
	publishWork(t, js, "drivers.compiler.resources.build", "run-1", "compile", work)
	waitForLogLine(t, js, "run-1", "delivered again after its result was stored (run-1.compile.1); not run again")
	waitAllAcked(t, js, "compiler")

	mu.Lock()
	defer mu.Unlock()
	if strings.Join(keys, ",") != "run-1.compile.1" {
		t.Errorf("Reconcile ran with keys %q, want once with run-1.compile.1", keys)
	}
}

// waitForLogLine waits until the run's stored log holds line.
func waitForLogLine(t *testing.T, js jetstream.JetStream, runID, line string) {
	t.Helper()
	stream, err := js.Stream(context.Background(), "logs")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		cons, err := stream.OrderedConsumer(context.Background(), jetstream.OrderedConsumerConfig{FilterSubjects: []string{"logs." + runID}})
		if err != nil {
			t.Fatal(err)
		}
		batch, _ := cons.FetchNoWait(100)
		seen = nil
		for msg := range batch.Messages() {
			var l map[string]any
			_ = json.Unmarshal(msg.Data(), &l)
			if seen = append(seen, l["message"].(string)); l["message"] == line {
				return
			}
		}
	}
	t.Fatalf("the log of %s has no line %q: %q", runID, line, seen)
}

// waitAllAcked waits until the driver's consumer has no message pending or
// unacknowledged.
func waitAllAcked(t *testing.T, js jetstream.JetStream, driver string) {
	t.Helper()
	var info *jetstream.ConsumerInfo
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		cons, err := js.Consumer(context.Background(), "messages", driver)
		if err != nil {
			t.Fatal(err)
		}
		if info, err = cons.Info(context.Background()); err != nil {
			t.Fatal(err)
		}
		if info.NumPending == 0 && info.NumAckPending == 0 {
			return
		}
	}
	t.Fatalf("consumer %s: %d pending, %d unacknowledged", driver, info.NumPending, info.NumAckPending)
}
