package eventbus_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/eventbus"
	"github.com/conveyor/conveyor/domain"
)

// A conflict that a retry settles is an ordinary event of optimistic
// concurrency: it is not logged at error. A real failure still is.
func TestConflictsAreNotLoggedAsErrors(t *testing.T) {
	var mu sync.Mutex
	tries := map[string]int{}
	handle := func(_ context.Context, events []domain.Event) error {
		name := events[0].(*domain.ResourceDefinitionCreated).Definition.Name
		mu.Lock()
		defer mu.Unlock()
		tries[name]++
		switch {
		case name == "races" && tries[name] <= 2:
			return fmt.Errorf("run r1 changed concurrently: %w", domain.ErrConflict)
		case name == "fails":
			return domain.Invalid("name", "this event can never be handled")
		}
		return nil
	}
	out := &embedtest.LogBuffer{}
	poison := &poisonQueue{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runBus(ctx, t, []string{"races", "fails", "after"}, handle, eventbus.Config{
		Retries: 2, Poison: poison, Logger: slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		finished := tries["races"] == 3 && tries["after"] > 0
		mu.Unlock()
		if finished && len(poison.reasons()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: tried %v, parked %q", tries, poison.reasons())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	var conflicts, failures int
	for _, line := range strings.Split(out.String(), "\n") {
		switch {
		case strings.Contains(line, "changed concurrently") && strings.Contains(line, "level=ERROR"):
			t.Errorf("a conflict logged at error: %s", line)
		case strings.Contains(line, "changed concurrently"):
			conflicts++
		case strings.Contains(line, "can never be handled") && strings.Contains(line, "level=ERROR"):
			failures++
		}
	}
	if conflicts == 0 || failures == 0 {
		t.Errorf("%d conflict lines below error and %d failure lines at error, want both; the log:\n%s", conflicts, failures, out.String())
	}
}
