package engine

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
)

// Scheduler fires schedule triggers' ticks. It keeps the triggers in
// memory, fed by their events (Apply), and fires each tick through Fire,
// whose delivery id derives from the tick: every server runs a Scheduler,
// and the servers that fire the same tick write it once. After a time when
// no server ran, a trigger with catch-up latest fires the latest tick
// missed, once; however many ticks a stalled Scheduler missed, it fires the
// latest of them only.
type Scheduler struct {
	// Schedules reads the triggers' cron expressions; Fire fires one tick
	// (commands.Handler.FireTick). Both are required.
	Schedules domain.Schedules
	Fire      func(context.Context, commands.FireTick) (commands.DeliveryOutcome, error)
	// Now and After are the clock; time.Now and time.After when nil.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Retry is the first wait before a tick that failed is fired again
	// (doubling, five attempts in all); a second when zero.
	Retry  time.Duration
	Logger *slog.Logger

	mu       sync.Mutex
	triggers map[string]*planned
	sequence uint64
	changed  chan struct{}
}

// planned is a schedule trigger as the Scheduler follows it.
type planned struct {
	trigger  domain.Trigger
	schedule domain.Schedule
	savedAt  time.Time
	// next is the next tick to fire; zero until the trigger is planned,
	// which decides its catch-up.
	next time.Time
}

// fireAttempts bounds the attempts at one tick.
const fireAttempts = 5

// Apply folds a trigger event into the Scheduler's triggers; events of
// other aggregates and older ones than the last applied are ignored. Safe
// for concurrent use with Run.
func (s *Scheduler) Apply(e domain.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := e.EventMeta()
	if m.Sequence != 0 && m.Sequence <= s.sequence {
		return
	}
	s.sequence = max(s.sequence, m.Sequence)
	if s.triggers == nil {
		s.triggers = map[string]*planned{}
	}
	switch e := e.(type) {
	case *domain.TriggerSaved:
		delete(s.triggers, e.Trigger.Name)
		if e.Trigger.Source != domain.SourceSchedule {
			break
		}
		sched, err := s.Schedules.Parse(e.Trigger.Schedule, e.Trigger.TimeZone)
		if err != nil { // refused when saved; a server of another version may read less
			s.logger().Warn("a schedule trigger's schedule cannot be read; it does not fire", "trigger", e.Trigger.Name, "err", err)
			break
		}
		s.triggers[e.Trigger.Name] = &planned{trigger: e.Trigger, schedule: sched, savedAt: m.Time}
	case *domain.TriggerDeleted:
		delete(s.triggers, e.Name)
	default:
		return
	}
	s.signal()
}

// Sequence is the log sequence of the last event applied.
func (s *Scheduler) Sequence() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sequence
}

// signal wakes Run; s.mu is held.
func (s *Scheduler) signal() {
	if s.changed == nil {
		s.changed = make(chan struct{}, 1)
	}
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// Run fires the ticks until ctx ends, then waits for the ticks it is
// firing.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.changed == nil {
		s.changed = make(chan struct{}, 1)
	}
	changed := s.changed
	s.mu.Unlock()
	var firing sync.WaitGroup
	defer firing.Wait()
	for {
		select { // what changed until now is read below
		case <-changed:
		default:
		}
		due, wait := s.due(s.now())
		for _, f := range due {
			firing.Add(1)
			go func() {
				defer firing.Done()
				s.fire(ctx, f)
			}()
		}
		var timer <-chan time.Time
		if wait > 0 {
			timer = s.after(wait)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-timer:
		}
	}
}

// due plans the triggers not planned yet (their catch-up tick is due at
// once) and returns the ticks due at now, one per trigger, and how long
// until the next one (0: none is planned).
func (s *Scheduler) due(now time.Time) (due []commands.FireTick, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, p := range s.triggers {
		var tick time.Time
		var ok bool
		if p.next.IsZero() {
			tick, ok = p.trigger.CatchUpTick(p.schedule, p.savedAt, now)
		} else if !p.next.After(now) {
			tick, ok = domain.LatestTick(p.schedule, p.next.Add(-time.Nanosecond), now)
		}
		if ok {
			due = append(due, commands.FireTick{Trigger: name, Tick: tick})
		}
		if p.next.IsZero() || !p.next.After(now) {
			p.next = p.schedule.Next(now)
		}
		if p.next.IsZero() {
			continue
		}
		if d := p.next.Sub(now); wait == 0 || d < wait {
			wait = max(d, time.Millisecond)
		}
	}
	return due, wait
}

// fire fires one tick, again after a failure but a refusal (an expression
// that fails, a resource the schema refuses): the tick's id makes a repeat
// harmless.
func (s *Scheduler) fire(ctx context.Context, f commands.FireTick) {
	wait := s.Retry
	if wait <= 0 {
		wait = time.Second
	}
	log := s.logger().With("trigger", f.Trigger, "tick", f.Tick.UTC().Format(time.RFC3339))
	for attempt := 1; ; attempt++ {
		out, err := s.Fire(ctx, f)
		_, invalid := domain.AsValidation(err)
		switch {
		case err == nil:
			log.Debug("tick fired", "outcome", out.Outcome, "reason", out.Reason, "runid", out.RunID)
			return
		case ctx.Err() != nil:
			return
		case invalid, errors.Is(err, domain.ErrNotFound), attempt == fireAttempts:
			log.Warn("a schedule trigger's tick wrote nothing", "attempts", attempt, "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.after(wait):
		}
		wait *= 2
	}
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) after(d time.Duration) <-chan time.Time {
	if s.After != nil {
		return s.After(d)
	}
	return time.After(d)
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
