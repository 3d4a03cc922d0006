package engine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
)

// minutes ticks on every minute, in UTC.
type minutes struct{}

func (minutes) Next(t time.Time) time.Time                    { return t.Truncate(time.Minute).Add(time.Minute) }
func (minutes) Location() *time.Location                      { return time.UTC }
func (minutes) Parse(string, string) (domain.Schedule, error) { return minutes{}, nil }

// fakeClock is a clock the test moves: each wait of the Scheduler is
// handed to the test, which sets the time and ends the wait.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.waits <- ch
	return ch
}

// advance waits for the Scheduler to wait, moves the time to now and ends
// the wait.
func (c *fakeClock) advance(t *testing.T, now time.Time) {
	t.Helper()
	select {
	case ch := <-c.waits:
		c.mu.Lock()
		c.now = now
		c.mu.Unlock()
		ch <- now
	case <-time.After(5 * time.Second):
		t.Fatal("the scheduler does not wait")
	}
}

// TestSchedulerFiresEachTickAndCatchesUpOnce: started after a time without
// a server, a trigger with catch-up latest fires the latest tick missed,
// then each tick; a scheduler that stalled over several ticks fires the
// latest only; a trigger with catch-up none fires only the ticks to come;
// a deleted trigger no longer fires.
func TestSchedulerFiresEachTickAndCatchesUpOnce(t *testing.T) {
	start := time.Date(2026, 12, 7, 10, 0, 30, 0, time.UTC)
	clock := &fakeClock{now: start, waits: make(chan chan time.Time, 16)}
	fired := make(chan commands.FireTick, 16)
	s := &engine.Scheduler{Schedules: minutes{}, Now: clock.Now, After: clock.After,
		Fire: func(_ context.Context, f commands.FireTick) (commands.DeliveryOutcome, error) {
			fired <- f
			return commands.DeliveryOutcome{Outcome: commands.DeliveryFired}, nil
		}}
	saved := func(seq uint64, name, catchUp string) *domain.TriggerSaved {
		return &domain.TriggerSaved{Meta: domain.Meta{Type: domain.TypeTriggerSaved, Sequence: seq, Time: start.Add(-time.Hour)},
			Trigger: domain.Trigger{Name: name, Source: domain.SourceSchedule, Schedule: "* * * * *", CatchUp: catchUp}}
	}
	s.Apply(saved(1, "latest", domain.CatchUpLatest))
	s.Apply(saved(2, "none", domain.CatchUpNone))
	s.Apply(saved(2, "stale", domain.CatchUpLatest)) // a sequence seen already: ignored
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	expect := func(what string, want ...commands.FireTick) {
		t.Helper()
		got := map[commands.FireTick]bool{}
		for range want {
			select {
			case f := <-fired:
				got[f] = true
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: fired %v, want %v", what, got, want)
			}
		}
		for _, w := range want {
			if !got[w] {
				t.Errorf("%s: fired %v, want %v", what, got, want)
			}
		}
	}
	tick := func(name string, at time.Time) commands.FireTick { return commands.FireTick{Trigger: name, Tick: at} }
	ten := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

	expect("catch-up", tick("latest", ten))
	clock.advance(t, ten.Add(time.Minute))
	expect("10:01", tick("latest", ten.Add(time.Minute)), tick("none", ten.Add(time.Minute)))
	clock.advance(t, ten.Add(5*time.Minute+10*time.Second)) // stalled over 10:02 to 10:05
	expect("after a stall", tick("latest", ten.Add(5*time.Minute)), tick("none", ten.Add(5*time.Minute)))
	s.Apply(&domain.TriggerDeleted{Meta: domain.Meta{Type: domain.TypeTriggerDeleted, Sequence: 3}, Name: "none"})
	clock.advance(t, ten.Add(5*time.Minute+10*time.Second)) // woken by the deletion
	clock.advance(t, ten.Add(6*time.Minute))
	expect("10:06", tick("latest", ten.Add(6*time.Minute)))
	clock.advance(t, ten.Add(6*time.Minute+time.Second))
	select {
	case f := <-fired:
		t.Errorf("fired %v more", f)
	default:
	}
}
