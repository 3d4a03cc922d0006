package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/adapters/conditions"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
)

// groupWorld is a world with a pipeline "deploy" of one step whose runs
// share the concurrency group "deploy-" + resource.spec.env under onFull,
// limit 1; the engine is fed the log by pump, as the server's consumer
// does.
type groupWorld struct {
	*world
	e    *engine.Engine
	d    *recorder
	runs []string
}

func newGroupWorld(t *testing.T, onFull string) *groupWorld {
	t.Helper()
	cel, err := conditions.New()
	must(t, err)
	w := newWorldWith(t, cel)
	one := 1
	_, _, err = w.cmd.SavePipeline(context.Background(), commands.SavePipeline{Pipeline: domain.Pipeline{Name: "deploy", Resource: "build",
		Concurrency: &domain.Concurrency{Group: `"deploy-" + resource.spec.env`, Limit: &one, OnFull: onFull},
		Steps:       []domain.Step{{ID: "ship", Driver: "shipper"}}}}, commands.CreateOnly)
	must(t, err)
	d := &recorder{}
	return &groupWorld{world: w, e: w.engine(d), d: d}
}

// start creates a resource of the pipeline in env and lets the engine
// react to it; it returns the run's id.
func (g *groupWorld) start(name, env string) string {
	return g.react(g.create(name, env))
}

// create creates a resource of the pipeline in env and returns the change,
// which the engine has not seen yet.
func (g *groupWorld) create(name, env string) domain.Event {
	ctx := context.Background()
	_, err := g.cmd.CreateResource(ctx, commands.CreateResource{Resource: domain.Resource{Name: name, Type: "build", Pipeline: "deploy",
		Spec: json.RawMessage(fmt.Sprintf(`{"env":%q}`, env))}})
	must(g.t, err)
	events, err := g.store.Load(ctx, domain.AggregateResource, "build/"+name)
	must(g.t, err)
	return events[0]
}

// react lets the engine react to a change and returns its run's id.
func (g *groupWorld) react(change domain.Event) string {
	must(g.t, g.e.Handle(context.Background(), []domain.Event{change}))
	g.runs = append(g.runs, change.EventMeta().CorrelationID)
	g.pump()
	return change.EventMeta().CorrelationID
}

// pump hands the engine every message of the runs and of the group, as
// the log delivers them (again: the engine is idempotent), until no new
// message appears.
func (g *groupWorld) pump() {
	ctx := context.Background()
	seen := -1
	for {
		var messages [][]domain.Event
		for _, id := range g.runs {
			messages = append(messages, g.messages(id)...)
		}
		messages = append(messages, g.groupMessages("deploy-prod")...)
		if len(messages) == seen {
			return
		}
		seen = len(messages)
		for _, m := range messages {
			must(g.t, g.e.Handle(ctx, m))
		}
	}
}

func (g *groupWorld) groupMessages(name string) [][]domain.Event {
	return g.messagesOf(domain.AggregateConcurrency, domain.GroupID(name))
}

func (g *groupWorld) run(id string) domain.Run {
	st, err := g.cmd.LoadRun(context.Background(), id)
	must(g.t, err)
	return st.Run
}

func (g *groupWorld) statuses(ids ...string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, g.run(id).Status)
	}
	return out
}

// finish records the success of the run's step and lets the engine react.
func (g *groupWorld) finish(id string) {
	r := ok("ship", "shipper")
	r.RunID, r.MessageID = id, "result-"+id
	must(g.t, g.e.RecordResult(context.Background(), r))
	g.pump()
}

// shipped is the runs whose step was published, in order, each once (two
// engines may publish one work: the dispatcher stores it once).
func (g *groupWorld) shipped() []string {
	var out []string
	for _, w := range g.d.all() {
		if !slices.Contains(out, w.RunID) {
			out = append(out, w.RunID)
		}
	}
	return out
}

func (g *groupWorld) want(t *testing.T, what string, got, want []string) {
	t.Helper()
	wantStrings(t, what, got, want)
}

// Limit 1, three runs: the first runs, the two others wait in order, each
// starting when the one before ends.
func TestAGroupOfOneRunsItsRunsOneAfterAnother(t *testing.T) {
	g := newGroupWorld(t, domain.OnFullQueue)
	a, b, c := g.start("a", "prod"), g.start("b", "prod"), g.start("c", "prod")
	const running, queued, succeeded = domain.RunStatusRunning, domain.RunStatusQueued, domain.RunStatusSucceeded
	g.want(t, "statuses", g.statuses(a, b, c), []string{running, queued, queued})
	g.want(t, "published", g.shipped(), []string{a})
	group, err := g.cmd.LoadGroup(context.Background(), "deploy-prod")
	must(t, err)
	if group.Position(b) != 1 || group.Position(c) != 2 {
		t.Errorf("positions: b %d, c %d, want 1 and 2", group.Position(b), group.Position(c))
	}
	if msg := g.run(c).Message; !strings.Contains(msg, `"deploy-prod"`) {
		t.Errorf("a queued run says %q, want its group", msg)
	}
	// Another env is another group: it runs at once.
	other := g.start("d", "staging")
	g.want(t, "other group", g.statuses(other), []string{running})

	g.finish(a)
	g.want(t, "after a", g.statuses(a, b, c), []string{succeeded, running, queued})
	g.finish(b)
	g.want(t, "after b", g.statuses(a, b, c), []string{succeeded, succeeded, running})
	g.finish(c)
	g.want(t, "after c", g.statuses(a, b, c), []string{succeeded, succeeded, succeeded})
	g.want(t, "published", g.shipped(), []string{a, other, b, c})
	group, err = g.cmd.LoadGroup(context.Background(), "deploy-prod")
	must(t, err)
	if len(group.Running)+len(group.Queued) != 0 {
		t.Errorf("the group still holds %+v", group)
	}
}

// A queued run cancelled leaves the queue: the run after it starts in its
// stead when the running one ends.
func TestCancellingAQueuedRunTakesItOutOfTheQueue(t *testing.T) {
	g := newGroupWorld(t, domain.OnFullQueue)
	a, b, c := g.start("a", "prod"), g.start("b", "prod"), g.start("c", "prod")
	_, err := g.cmd.CancelRun(context.Background(), commands.CancelRun{RunID: b, Reason: "not needed"})
	must(t, err)
	g.pump()
	group, err := g.cmd.LoadGroup(context.Background(), "deploy-prod")
	must(t, err)
	if group.Position(b) != 0 || group.Position(c) != 1 {
		t.Errorf("after cancelling b: %+v", group)
	}
	g.finish(a)
	g.want(t, "statuses", g.statuses(a, b, c), []string{domain.RunStatusSucceeded, domain.RunStatusCancelled, domain.RunStatusRunning})
	g.want(t, "published", g.shipped(), []string{a, c})
}

// cancel-running: the new run cancels the one that runs and takes its
// place.
func TestCancelRunningCancelsTheOldestRun(t *testing.T) {
	g := newGroupWorld(t, domain.OnFullCancelRunning)
	a := g.start("a", "prod")
	b := g.start("b", "prod")
	g.want(t, "statuses", g.statuses(a, b), []string{domain.RunStatusCancelled, domain.RunStatusRunning})
	if msg := g.run(a).Message; !strings.Contains(msg, b) || !strings.Contains(msg, "cancel-running") {
		t.Errorf("the cancelled run says %q, want the run that took its place", msg)
	}
	g.want(t, "published", g.shipped(), []string{a, b})
	if stops := g.d.stopped(); len(stops) == 0 {
		t.Errorf("the cancelled run's driver was not told to stop")
	}
}

// cancel-running, two runs the engine reaches in the other order than they
// were made (two workers): the older one never cancels the newer one that
// runs; it is skipped as superseded.
func TestCancelRunningNeverCancelsANewerRun(t *testing.T) {
	g := newGroupWorld(t, domain.OnFullCancelRunning)
	older, newer := g.create("a", "prod"), g.create("b", "prod")
	b := g.react(newer)
	a := g.react(older)
	g.want(t, "statuses", g.statuses(a, b), []string{domain.RunStatusCancelled, domain.RunStatusRunning})
	if msg := g.run(a).Message; !strings.Contains(msg, "runs made after this one") {
		t.Errorf("the older run says %q", msg)
	}
	g.want(t, "published", g.shipped(), []string{b})
}

// skip: a run that finds its group full ends at once, cancelled as
// skipped; the one that runs goes on.
func TestSkipEndsTheNewRun(t *testing.T) {
	g := newGroupWorld(t, domain.OnFullSkip)
	a := g.start("a", "prod")
	b := g.start("b", "prod")
	g.want(t, "statuses", g.statuses(a, b), []string{domain.RunStatusRunning, domain.RunStatusCancelled})
	if msg := g.run(b).Message; !strings.HasPrefix(msg, "skipped: ") {
		t.Errorf("the skipped run says %q", msg)
	}
	g.finish(a)
	c := g.start("c", "prod")
	g.want(t, "after a", g.statuses(a, b, c), []string{domain.RunStatusSucceeded, domain.RunStatusCancelled, domain.RunStatusRunning})
}

// Two servers admitting runs of one group at once never let more than the
// limit run: one wins each race, the other reads the group again and
// queues.
func TestTwoEnginesNeverExceedTheLimit(t *testing.T) {
	g := newGroupWorld(t, domain.OnFullQueue)
	second := g.engine(g.d)
	ctx := context.Background()
	var changes []domain.Event
	for i := range 6 {
		name := fmt.Sprintf("r%d", i)
		_, err := g.cmd.CreateResource(ctx, commands.CreateResource{Resource: domain.Resource{Name: name, Type: "build", Pipeline: "deploy",
			Spec: json.RawMessage(`{"env":"prod"}`)}})
		must(t, err)
		events, err := g.store.Load(ctx, domain.AggregateResource, "build/"+name)
		must(t, err)
		changes = append(changes, events[0])
		g.runs = append(g.runs, events[0].EventMeta().CorrelationID)
	}
	errs := make(chan error, len(changes))
	for i, ch := range changes {
		e := g.e
		if i%2 == 1 {
			e = second
		}
		go func() { errs <- e.Handle(ctx, []domain.Event{ch}) }()
	}
	for range changes {
		must(t, <-errs)
	}
	g.pump()
	running := 0
	for _, s := range g.statuses(g.runs...) {
		if s == domain.RunStatusRunning {
			running++
		}
	}
	if running != 1 || len(g.shipped()) != 1 {
		t.Fatalf("%d runs run, %d published (%v), want 1", running, len(g.shipped()), g.statuses(g.runs...))
	}
	for range g.runs {
		g.finish(g.shipped()[len(g.shipped())-1])
	}
	for _, s := range g.statuses(g.runs...) {
		if s != domain.RunStatusSucceeded {
			t.Fatalf("statuses %v, want all succeeded", g.statuses(g.runs...))
		}
	}
}

// A crash between a run's end and the next run's admission is repaired
// from the log: a run that ended with no engine to release it (the engine
// died after recording the result) is released by the engine that reads
// its end; a group that admitted a run whose admission no engine recorded
// lets it run when its message is delivered again.
func TestAGroupIsRepairedAfterACrash(t *testing.T) {
	g := newGroupWorld(t, domain.OnFullQueue)
	ctx := context.Background()
	a, b, c := g.start("a", "prod"), g.start("b", "prod"), g.start("c", "prod")

	// a ends by a command alone: nothing released it.
	_, err := g.cmd.RecordDriverResult(ctx, commands.RecordDriverResult{RunID: a, Step: "ship", MessageID: "result-a",
		Result: domain.DriverResult{Success: true, Driver: "shipper"}})
	must(t, err)
	g.want(t, "after the crash", g.statuses(a, b, c), []string{domain.RunStatusSucceeded, domain.RunStatusQueued, domain.RunStatusQueued})
	g.e = g.engine(g.d) // the server comes back: its consumer delivers what was not acknowledged
	g.pump()
	g.want(t, "repaired", g.statuses(a, b, c), []string{domain.RunStatusSucceeded, domain.RunStatusRunning, domain.RunStatusQueued})

	// b ends and the group admits c, but the server dies before c runs.
	_, err = g.cmd.RecordDriverResult(ctx, commands.RecordDriverResult{RunID: b, Step: "ship", MessageID: "result-b",
		Result: domain.DriverResult{Success: true, Driver: "shipper"}})
	must(t, err)
	admitted, err := g.cmd.LeaveGroup(ctx, commands.LeaveGroup{RunID: b, Group: "deploy-prod", Reason: "the run succeeded"})
	must(t, err)
	g.want(t, "admitted", admitted, []string{c})
	g.want(t, "before the repair", g.statuses(c), []string{domain.RunStatusQueued})
	g.e = g.engine(g.d)
	g.pump()
	g.want(t, "repaired", g.statuses(a, b, c), []string{domain.RunStatusSucceeded, domain.RunStatusSucceeded, domain.RunStatusRunning})
	g.want(t, "published", g.shipped(), []string{a, b, c})
}
