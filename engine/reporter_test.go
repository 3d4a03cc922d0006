package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
)

// posts records the statuses a git host was sent and answers each with the
// next of its errors (nil once they run out).
type posts struct {
	mu      sync.Mutex
	answers []error
	states  []string
}

func (p *posts) Post(_ context.Context, _ domain.StatusTarget, token []byte, s domain.CommitStatus, link string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if string(token) != "t0ken" || link != "https://ci.example.com/#/runs/r1" {
		return fmt.Errorf("token %q, link %q", token, link)
	}
	p.states = append(p.states, s.State)
	if len(p.answers) == 0 {
		return nil
	}
	err := p.answers[0]
	p.answers = p.answers[1:]
	return err
}

type tokens map[string][]byte

func (t tokens) Get(_ context.Context, name string) ([]byte, error) {
	if v, ok := t[name]; ok {
		return v, nil
	}
	return nil, domain.NotFound("secret " + name)
}

// reporter reports run r1 of build/app-1, whose version 1 the trigger
// app-push wrote with a report when report is true, to p.
func reporter(p *posts, report bool, gaveUp *int) *engine.Reporter {
	fired := &domain.TriggerFired{Meta: domain.Meta{ID: "f1", Type: domain.TypeTriggerFired}, Trigger: "app-push"}
	if report {
		fired.Report = &domain.StatusTarget{Kind: "github", Token: "gh", Repository: "acme/app", SHA: "abc"}
	}
	written := &domain.ResourceCreated{Meta: domain.Meta{Type: domain.TypeResourceCreated, Version: 1, CausationID: "f1",
		Actor: &domain.Actor{Kind: domain.ActorTrigger, Name: "app-push"}}}
	run := domain.Run{ID: "r1", Status: domain.RunStatusFailed, Pipeline: domain.Pipeline{Name: "ci"},
		Resource: domain.Resource{Type: "build", Name: "app-1"}, ResourceEventVersion: 1}
	return &engine.Reporter{
		Load: func(_ context.Context, aggregate, id string) ([]domain.Event, error) {
			switch {
			case aggregate == domain.AggregateResource && id == "build/app-1":
				return []domain.Event{written}, nil
			case aggregate == domain.AggregateDelivery && id == domain.FiredKey("app-push", "f1"):
				return []domain.Event{fired}, nil
			}
			return nil, nil
		},
		LoadRun: func(context.Context, string) (commands.RunState, error) {
			return commands.RunState{Run: run, LastSeq: 10}, nil
		},
		Tokens: tokens{"gh": []byte("t0ken")}, Poster: p, PublicURL: "https://ci.example.com", Retry: time.Millisecond,
		GaveUp: func() { *gaveUp++ },
	}
}

// TestReporterRetriesThenGivesUp: a host that fails and recovers gets the
// status again until it takes it; one that refuses (a 4xx) is not asked
// again; one away through every attempt is given up; each given up is
// counted, and none makes the event fail (nothing holds the consumer). A
// run no reporting trigger started sends nothing.
func TestReporterRetriesThenGivesUp(t *testing.T) {
	failed := &domain.RunFailed{Meta: domain.Meta{Type: domain.TypeRunFailed, Aggregate: domain.AggregateRun, AggregateID: "r1", Sequence: 10}}
	away := errors.New("connection refused")
	for _, tc := range []struct {
		name    string
		report  bool
		answers []error
		posts   int
		gaveUp  int
	}{
		{"a host that recovers", true, []error{away, away}, 3, 0},
		{"a host that refuses", true, []error{fmt.Errorf("%w: 401", engine.ErrStatusRefused)}, 1, 1},
		{"a host away", true, []error{away, away, away, away, away, away}, engine.ReportAttempts, 1},
		{"no report", false, nil, 0, 0},
	} {
		p := &posts{answers: tc.answers}
		gaveUp := 0
		if err := reporter(p, tc.report, &gaveUp).Handle(context.Background(), []domain.Event{failed}); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if len(p.states) != tc.posts || gaveUp != tc.gaveUp {
			t.Errorf("%s: %d posts %v, %d given up; want %d and %d", tc.name, len(p.states), p.states, gaveUp, tc.posts, tc.gaveUp)
		}
		for _, s := range p.states {
			if s != domain.StatusFailure {
				t.Errorf("%s: state %s, want failure", tc.name, s)
			}
		}
	}
}

// TestReporterReadsNothingOfARunNoTriggerStarted: a run a token started is
// not reported, and its resource's events (as many as its history) are
// not read to find that out; once its RunStarted has said so, neither is
// the run itself when it ends.
func TestReporterReadsNothingOfARunNoTriggerStarted(t *testing.T) {
	run := domain.Run{ID: "r1", Status: domain.RunStatusFailed, Pipeline: domain.Pipeline{Name: "ci"},
		Resource: domain.Resource{Type: "build", Name: "app-1"}, ResourceEventVersion: 1,
		StartedBy: &domain.Actor{Kind: "token", Name: "alice"}}
	loads, runLoads := 0, 0
	p := &posts{}
	r := &engine.Reporter{
		Load: func(context.Context, string, string) ([]domain.Event, error) { loads++; return nil, nil },
		LoadRun: func(context.Context, string) (commands.RunState, error) {
			runLoads++
			return commands.RunState{Run: run, LastSeq: 10}, nil
		},
		Tokens: tokens{}, Poster: p, Retry: time.Millisecond, GaveUp: func() {},
	}
	failed := &domain.RunFailed{Meta: domain.Meta{Type: domain.TypeRunFailed, Aggregate: domain.AggregateRun, AggregateID: "r1", Sequence: 10}}
	if err := r.Handle(context.Background(), []domain.Event{failed}); err != nil {
		t.Fatal(err)
	}
	if loads != 0 || len(p.states) != 0 {
		t.Errorf("a token's run: %d loads of events, %d statuses; want none", loads, len(p.states))
	}
	runLoads = 0
	meta := func(typ string, seq uint64) domain.Meta {
		return domain.Meta{Type: typ, Aggregate: domain.AggregateRun, AggregateID: "r2", Sequence: seq}
	}
	for _, e := range []domain.Event{
		&domain.RunStarted{Meta: meta(domain.TypeRunStarted, 20), RunID: "r2", StartedBy: &domain.Actor{Kind: "token", Name: "alice"}},
		&domain.RunSucceeded{Meta: meta(domain.TypeRunSucceeded, 22)},
	} {
		if err := r.Handle(context.Background(), []domain.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	if runLoads != 0 || loads != 0 || len(p.states) != 0 {
		t.Errorf("a token's run, started and ended: %d loads of the run, %d of events, %d statuses; want none", runLoads, loads, len(p.states))
	}
}

// TestReporterReadsNothingForARunThatRecordedItsOrigin: a run that recorded
// the delivery behind it, and where it is reported, is reported from the
// run alone: no read of its resource's events (as many as the resource's
// history) nor of the delivery.
func TestReporterReadsNothingForARunThatRecordedItsOrigin(t *testing.T) {
	run := domain.Run{ID: "r1", Status: domain.RunStatusFailed, Pipeline: domain.Pipeline{Name: "ci"},
		Resource: domain.Resource{Type: "build", Name: "app-1"}, ResourceEventVersion: 1,
		StartedBy: &domain.Actor{Kind: domain.ActorTrigger, Name: "app-push"},
		Origin: &domain.RunOrigin{Event: "push", Delivery: "d-1",
			Report: &domain.StatusTarget{Kind: "github", Token: "gh", Repository: "acme/app", SHA: "abc"}}}
	var loaded []string
	p := &posts{}
	r := &engine.Reporter{
		Load: func(_ context.Context, aggregate, id string) ([]domain.Event, error) {
			loaded = append(loaded, aggregate+":"+id)
			return nil, nil
		},
		LoadRun: func(context.Context, string) (commands.RunState, error) {
			return commands.RunState{Run: run, LastSeq: 10}, nil
		},
		Tokens: tokens{"gh": []byte("t0ken")}, Poster: p, PublicURL: "https://ci.example.com", Retry: time.Millisecond, GaveUp: func() {},
	}
	failed := &domain.RunFailed{Meta: domain.Meta{Type: domain.TypeRunFailed, Aggregate: domain.AggregateRun, AggregateID: "r1", Sequence: 10}}
	if err := r.Handle(context.Background(), []domain.Event{failed}); err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 0 || len(p.states) != 1 || p.states[0] != domain.StatusFailure {
		t.Errorf("loaded %v and posted %v; want nothing read and one failure status", loaded, p.states)
	}
}
