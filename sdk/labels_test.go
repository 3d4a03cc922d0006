package sdk_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/sdk"
	"github.com/conveyor/conveyor/sdk/protocol"
)

// TestLabelledWorkReachesTheProcessesWithItsLabels: of two managers of one
// driver, one labelled linux and one linux and gpu, each running one step
// at a time, only the second takes the work of gpu and of gpu+linux; the
// work of linux and the work without labels is done once each, by either.
// Neither runs more than one step at once across its consumers.
func TestLabelledWorkReachesTheProcessesWithItsLabels(t *testing.T) {
	nc, js := wire(t)
	var mu sync.Mutex
	handledBy := map[string][]string{} // run → the processes that handled it
	running, most := map[string]int{}, map[string]int{}
	driver := func(process string) sdk.Driver {
		return sdk.NewDriver("worker", []string{"build"}, func(ctx context.Context, req sdk.Request) sdk.Result {
			mu.Lock()
			running[process]++
			most[process] = max(most[process], running[process])
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			running[process]--
			handledBy[req.RunID] = append(handledBy[req.RunID], process)
			mu.Unlock()
			return sdk.Result{Success: true}
		})
	}
	nc2 := anotherConn(t)
	runManager(t, nc, driver("linux"), sdk.WithLabels("linux"))
	runManager(t, nc2, driver("gpu"), sdk.WithLabels("linux", "gpu"))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := js.Consumer(context.Background(), "messages", "worker+gpu+linux"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the consumers of the label sets were not made")
		}
	}
	const each = 20
	sets := []string{"", "linux", "gpu", "gpu+linux"}
	for _, set := range sets {
		for i := range each {
			publishWork(t, js, protocol.StepWorkSubject("worker", set, "build"), fmt.Sprintf("%s-%02d", set, i), "s", sdk.Resource{Name: "a", Type: "build"})
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		done := len(handledBy)
		mu.Unlock()
		if done == each*len(sets) || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(200 * time.Millisecond) // a duplicate would show up by now
	mu.Lock()
	defer mu.Unlock()
	if len(handledBy) != each*len(sets) {
		t.Fatalf("%d of %d messages handled", len(handledBy), each*len(sets))
	}
	for run, by := range handledBy {
		switch {
		case len(by) != 1:
			t.Errorf("%s handled by %v", run, by)
		case (run[:3] == "gpu") && by[0] != "gpu":
			t.Errorf("%s, work of gpu, handled by the process without gpu", run)
		}
	}
	if most["linux"] != 1 || most["gpu"] != 1 {
		t.Errorf("steps at once, at most, by process: %v (concurrency 1)", most)
	}
}

// TestWithLabelsRefusesBadLabels: labels that break the rule of names, are
// too long, repeat or are more than four are refused.
func TestWithLabelsRefusesBadLabels(t *testing.T) {
	noop := func(context.Context, sdk.Request) sdk.Result { return sdk.Result{} }
	for _, labels := range [][]string{{"GPU"}, {"a+b"}, {"gpu", "gpu"}, {"a", "b", "c", "d", "e"}, {"abcdefghijklmnopqrstuvwxyz0123456"}} {
		if _, err := sdk.NewManager(sdk.NewDriver("ok", []string{"build"}, noop), sdk.WithLabels(labels...)); err == nil {
			t.Errorf("labels %q accepted", labels)
		}
	}
	if _, err := sdk.NewManager(sdk.NewDriver("ok", []string{"build"}, noop), sdk.WithLabels("linux", "x86_64", "big-disk", "gpu")); err != nil {
		t.Errorf("four good labels: %v", err)
	}
}
