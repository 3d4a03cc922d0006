package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	lru "github.com/hashicorp/golang-lru/v2"
)

// StatusPoster sends a commit status to a git host.
type StatusPoster interface {
	// Post sends s for target, signed with token, linking to targetURL
	// ("" for none). An error matching ErrStatusRefused will not succeed
	// if sent again (a 4xx); any other may.
	Post(ctx context.Context, target domain.StatusTarget, token []byte, s domain.CommitStatus, targetURL string) error
}

// ErrStatusRefused: the git host refused a status for good (a bad token, a
// repository or commit it does not know); it is not sent again.
var ErrStatusRefused = errors.New("the git host refused the status")

// Reporter reports the runs that a trigger with a report started, as
// commit statuses: pending when a run starts, then success, failure or
// error when it ends. It is the handler of a durable consumer of the run
// events of its own, so a host that is slow or away never holds a run or
// the engine back. Delivered at least once: a status sent again is the
// same status. Safe for concurrent use.
type Reporter struct {
	// Load reads an aggregate's events (the event store); LoadRun a run's
	// state; Tokens the secrets holding the tokens; Poster sends. Required.
	Load    func(ctx context.Context, aggregate, id string) ([]domain.Event, error)
	LoadRun func(ctx context.Context, runID string) (commands.RunState, error)
	Tokens  commands.SecretValues
	Poster  StatusPoster
	// PublicURL is the web UI's address as the git host's users reach it;
	// each status links to {PublicURL}/#/runs/{id}. Without it, statuses
	// link nowhere.
	PublicURL string
	// Retry is the first wait before a status that failed is sent again,
	// doubling, ReportAttempts in all; a second when zero.
	Retry time.Duration
	// GaveUp, when not nil, is told of each status given up.
	GaveUp func()
	// Record, when not nil, records each status given up in the log
	// (commands.Handler.RecordStatusReportFailed), idempotently: an error
	// makes the event come again.
	Record func(ctx context.Context, c commands.RecordStatusReportFailed) error
	Logger *slog.Logger

	once     sync.Once
	targets  *lru.Cache[string, *domain.StatusTarget]
	runLocks [reportStripes]sync.Mutex
}

// ReporterActor is the actor of the events the Reporter records.
var ReporterActor = domain.Actor{Kind: domain.ActorServer, Name: "reporter"}

// ReportAttempts bounds the attempts at one status.
const ReportAttempts = 5

// reportTargets bounds the runs whose report target is remembered.
const reportTargets = 4096

// Handle reports, for each run event that changes a run's status, the
// status the run has now (domain.StatusOf). It
// returns an error only when the log or the vault cannot be read, so that
// the event comes again; a host that refuses or stays away is logged,
// counted and given up.
func (r *Reporter) Handle(ctx context.Context, events []domain.Event) error {
	for _, e := range events {
		if err := r.handle(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// ReportedTypes are the run events that change a run's commit status: a
// consumer for the Reporter need deliver no other.
var ReportedTypes = []string{domain.TypeRunStarted, domain.TypeRunRetried, domain.TypeRunSucceeded, domain.TypeRunFailed, domain.TypeRunCancelled}

func (r *Reporter) handle(ctx context.Context, e domain.Event) error {
	if !slices.Contains(ReportedTypes, e.EventMeta().Type) {
		return nil
	}
	runID := e.EventMeta().AggregateID
	r.once.Do(func() { r.targets, _ = lru.New[string, *domain.StatusTarget](reportTargets) })
	if started, ok := e.(*domain.RunStarted); ok && started.StartedBy != nil && started.StartedBy.Kind != domain.ActorTrigger {
		// No trigger started it: nothing to report now or when it ends.
		r.targets.Add(runID, nil)
		return nil
	}
	if t, ok := r.targets.Get(runID); ok && t == nil {
		return nil // a run known not to be reported: no load of it
	}
	lock := &r.runLocks[stripe(runID)]
	lock.Lock() // one status of a run at a time, so that an older one is never sent last
	defer lock.Unlock()
	st, err := runAtLeast(ctx, func(ctx context.Context, id string) (commands.RunState, error) {
		st, err := r.LoadRun(ctx, id)
		if errors.Is(err, domain.ErrNotFound) { // not yet where loads look: see runAtLeast
			return commands.RunState{}, nil
		}
		return st, err
	}, runID, e.EventMeta().Sequence)
	if err != nil && st.LastSeq < e.EventMeta().Sequence && ctx.Err() == nil {
		// Loads are still behind the log: the event comes again, not parked.
		return fmt.Errorf("report run %s: %w: %v", runID, domain.ErrUnavailable, err)
	} else if err != nil {
		return fmt.Errorf("report run %s: %w", runID, err)
	}
	run := st.Run
	target, err := r.targetOf(ctx, run)
	if err != nil || target == nil {
		return err
	}
	token, err := r.Tokens.Get(ctx, target.Token)
	if errors.Is(err, domain.ErrNotFound) {
		return r.gaveUp(ctx, e, run, target, domain.StatusOf(run), 0, fmt.Errorf("the token's secret %q is not set", target.Token), nil)
	} else if err != nil {
		return fmt.Errorf("report run %s: the token: %w", runID, err)
	}
	link := ""
	if r.PublicURL != "" {
		link = r.PublicURL + "/#/runs/" + runID
	}
	wait := r.Retry
	if wait <= 0 {
		wait = time.Second
	}
	for attempt := 1; ; attempt++ {
		status := domain.StatusOf(run)
		err := r.Poster.Post(ctx, *target, token, status, link)
		switch {
		case err == nil:
			r.logger().Debug("status reported", "run", runID, "state", status.State, "repository", target.Repository, "sha", target.SHA)
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrStatusRefused), attempt == ReportAttempts:
			return r.gaveUp(ctx, e, run, target, status, attempt, err, token)
		}
		r.logger().Info("the git host did not take a status; again soon", "run", runID, "state", status.State, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
		if st, err = r.LoadRun(ctx, runID); err != nil { // the run may have moved on meanwhile
			return fmt.Errorf("report run %s: %w", runID, err)
		}
		run = st.Run
	}
}

// reportStripes is how many locks the runs' statuses are sent under.
const reportStripes = 64

// stripe is the lock of runID's statuses.
func stripe(runID string) int {
	h := fnv.New32a()
	h.Write([]byte(runID))
	return int(h.Sum32() % reportStripes)
}

// targetOf is where run is reported: the report its origin recorded
// (firedOf for a run from before runs recorded it); nil for a run no
// trigger started or whose trigger does not report.
func (r *Reporter) targetOf(ctx context.Context, run domain.Run) (*domain.StatusTarget, error) {
	switch {
	case run.Origin != nil:
		return run.Origin.Report, nil // recorded when the run started
	case run.StartedBy != nil && run.StartedBy.Kind != domain.ActorTrigger:
		return nil, nil // no trigger started it
	}
	if t, ok := r.targets.Get(run.ID); ok {
		return t, nil
	}
	fired, err := r.firedOf(ctx, run)
	if err != nil {
		return nil, fmt.Errorf("report run %s: %w", run.ID, err)
	}
	var target *domain.StatusTarget
	if fired != nil {
		target = fired.Report
	}
	r.targets.Add(run.ID, target)
	return target, nil
}

// firedOf is the TriggerFired of the delivery that started a run that
// recorded no origin (started before runs did): found through the
// resource event that started it (its actor names the trigger, its
// causation id the TriggerFired), which reads the resource's events. Nil
// when no trigger started it.
func (r *Reporter) firedOf(ctx context.Context, run domain.Run) (*domain.TriggerFired, error) {
	events, err := r.Load(ctx, domain.AggregateResource, run.Resource.Key())
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		m := e.EventMeta()
		if m.Version != run.ResourceEventVersion || m.Actor == nil || m.Actor.Kind != domain.ActorTrigger {
			continue
		}
		fired, err := r.Load(ctx, domain.AggregateDelivery, domain.FiredKey(m.Actor.Name, m.CausationID))
		if err != nil || len(fired) == 0 {
			return nil, err
		}
		f, _ := fired[0].(*domain.TriggerFired)
		return f, nil
	}
	return nil, nil
}

// gaveUp logs, counts and records the status s of run that was not
// reported, for the run event e; the host's answer is recorded without
// token.
func (r *Reporter) gaveUp(ctx context.Context, e domain.Event, run domain.Run, target *domain.StatusTarget, s domain.CommitStatus,
	attempts int, err error, token []byte) error {
	r.logger().Warn("a run's status was not reported to the git host", "run", s.RunID, "state", s.State, "kind", target.Kind,
		"repository", target.Repository, "sha", target.SHA, "attempts", attempts, "err", err)
	if r.GaveUp != nil {
		r.GaveUp()
	}
	if r.Record == nil {
		return nil
	}
	trigger := ""
	if run.StartedBy != nil && run.StartedBy.Kind == domain.ActorTrigger {
		trigger = run.StartedBy.Name
	}
	c := commands.RecordStatusReportFailed{RunID: s.RunID, Trigger: trigger, Status: s.State, Attempts: attempts,
		Message: domain.ReportMessage(err.Error(), token), Cause: e.EventMeta().ID}
	if err := r.Record(commands.WithActor(ctx, ReporterActor), c); err != nil {
		return fmt.Errorf("report run %s: record the status given up: %w", s.RunID, err)
	}
	return nil
}

func (r *Reporter) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}
