package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/conditions"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
)

// stepWorld is a world with a pipeline "release" of three steps, build →
// deploy → notify, whose deploy step alone names the concurrency group
// "deploy-" + resource.spec.env, limit 1, under onFull; the engine is fed
// the log by pump, as the server's consumer does.
type stepWorld struct {
	*world
	e    *engine.Engine
	d    *recorder
	runs []string
	// oneAtOnce makes pump check that no two deploy steps run at once:
	// under queue and skip; cancel-running hands the place over before the
	// step it cancels has stopped, as for runs.
	oneAtOnce bool
}

const deployGroup = "deploy-prod"

func newStepWorld(t *testing.T, onFull string) *stepWorld {
	t.Helper()
	cel, err := conditions.New()
	must(t, err)
	w := newWorldWith(t, cel)
	one := 1
	_, _, err = w.cmd.SavePipeline(context.Background(), commands.SavePipeline{Pipeline: domain.Pipeline{Name: "release", Resource: "build",
		Steps: []domain.Step{
			{ID: "build", Driver: "builder"},
			{ID: "deploy", Driver: "shipper", Needs: []string{"build"},
				Concurrency: &domain.Concurrency{Group: `"deploy-" + resource.spec.env`, Limit: &one, OnFull: onFull}},
			{ID: "notify", Driver: "notifier", Needs: []string{"deploy"}},
		}}}, commands.CreateOnly)
	must(t, err)
	d := &recorder{}
	return &stepWorld{world: w, e: w.engine(d), d: d, oneAtOnce: onFull != domain.OnFullCancelRunning}
}

// create creates a resource of the pipeline in env and returns the change,
// which the engine has not seen yet.
func (g *stepWorld) create(name, env string) domain.Event {
	ctx := context.Background()
	_, err := g.cmd.CreateResource(ctx, commands.CreateResource{Resource: domain.Resource{Name: name, Type: "build", Pipeline: "release",
		Spec: json.RawMessage(fmt.Sprintf(`{"env":%q}`, env))}})
	must(g.t, err)
	events, err := g.store.Load(ctx, domain.AggregateResource, "build/"+name)
	must(g.t, err)
	return events[0]
}

// start creates a resource in env and lets the engine react to it.
func (g *stepWorld) start(name, env string) string {
	change := g.create(name, env)
	must(g.t, g.e.Handle(context.Background(), []domain.Event{change}))
	id := change.EventMeta().CorrelationID
	g.runs = append(g.runs, id)
	g.pump()
	return id
}

// pump hands the engine every message of the runs and of the group again,
// until no new message appears; after each round it checks that no two
// deploy steps run at once.
func (g *stepWorld) pump() {
	g.t.Helper()
	ctx := context.Background()
	seen := -1
	for {
		var messages [][]domain.Event
		for _, id := range g.runs {
			messages = append(messages, g.messages(id)...)
		}
		messages = append(messages, g.messagesOf(domain.AggregateConcurrency, domain.GroupID(deployGroup))...)
		if len(messages) == seen {
			break
		}
		seen = len(messages)
		for _, m := range messages {
			must(g.t, g.e.Handle(ctx, m))
		}
	}
	if most := g.mostDeploysAtOnce(); g.oneAtOnce && most > 1 {
		g.t.Fatalf("%d deploy steps ran at once", most)
	}
}

// mostDeploysAtOnce replays the runs' events in log order and counts the
// deploy steps dispatched and not ended: the most there were at once.
func (g *stepWorld) mostDeploysAtOnce() int {
	var all []domain.Event
	for _, id := range g.runs {
		for _, m := range g.messages(id) {
			all = append(all, m...)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].EventMeta().Sequence < all[j].EventMeta().Sequence })
	running := map[string]bool{}
	most := 0
	for _, e := range all {
		run := e.EventMeta().AggregateID
		switch e := e.(type) {
		case *domain.StepDispatched:
			if e.Step == "deploy" {
				running[run] = true
			}
		case *domain.DriverResultRecorded:
			if e.Step == "deploy" && e.Ignored == "" {
				delete(running, run)
			}
		case *domain.RunCancelled, *domain.RunFailed, *domain.RunSucceeded:
			delete(running, run)
		}
		most = max(most, len(running))
	}
	return most
}

// finish records the success of the run's step and lets the engine react.
func (g *stepWorld) finish(id, step, driver string) {
	g.t.Helper()
	r := ok(step, driver)
	r.RunID, r.MessageID = id, "result-"+id+"-"+step
	must(g.t, g.e.RecordResult(context.Background(), r))
	g.pump()
}

// of is the runs whose work for driver was published, in order, each once.
func (g *stepWorld) of(driver string) []string {
	var out []string
	for _, w := range g.d.all() {
		if w.Driver == driver && !slices.Contains(out, w.RunID) {
			out = append(out, w.RunID)
		}
	}
	return out
}

func (g *stepWorld) step(id, step string) domain.StepState {
	st, err := g.cmd.LoadRun(context.Background(), id)
	must(g.t, err)
	for _, s := range st.Run.Steps {
		if s.ID == step {
			return s
		}
	}
	g.t.Fatalf("run %s has no step %s", id, step)
	return domain.StepState{}
}

func (g *stepWorld) stepStatuses(step string, ids ...string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, g.step(id, step).Status)
	}
	return out
}

func (g *stepWorld) runStatuses(ids ...string) []string {
	var out []string
	for _, id := range ids {
		st, err := g.cmd.LoadRun(context.Background(), id)
		must(g.t, err)
		out = append(out, st.Run.Status)
	}
	return out
}

func (g *stepWorld) group() domain.ConcurrencyGroup {
	grp, err := g.cmd.LoadGroup(context.Background(), deployGroup)
	must(g.t, err)
	return grp
}

func wantStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
}

// Three runs at once, a deploy step limited to one in its group: every
// build runs at once; the deploys run one after another, in the order the
// runs were made (not the order their builds ended), each queued step
// saying why it waits; never two at once; every run succeeds.
func TestAStepGroupRunsItsStepsOneAfterAnother(t *testing.T) {
	g := newStepWorld(t, domain.OnFullQueue)
	a, b, c := g.start("a", "prod"), g.start("b", "prod"), g.start("c", "prod")
	wantStrings(t, "builds", g.of("builder"), []string{a, b, c})

	// b's build ends first: its deploy takes the free place. Then c's and
	// a's: they wait, a before c, a's run being the older.
	g.finish(b, "build", "builder")
	g.finish(c, "build", "builder")
	g.finish(a, "build", "builder")
	const queued, dispatched, succeeded = domain.StepStatusQueued, domain.StepStatusDispatched, domain.StepStatusSucceeded
	wantStrings(t, "deploys", g.stepStatuses("deploy", a, b, c), []string{queued, dispatched, queued})
	wantStrings(t, "runs", g.runStatuses(a, b, c), []string{domain.RunStatusRunning, domain.RunStatusRunning, domain.RunStatusRunning})
	wantStrings(t, "shipped", g.of("shipper"), []string{b})
	s := g.step(c, "deploy")
	if s.Reason != `waits for a place in concurrency group "deploy-prod" (limit 1)` || s.Concurrency == nil || s.Concurrency.Group != deployGroup {
		t.Errorf("a queued step: reason %q, concurrency %+v", s.Reason, s.Concurrency)
	}
	grp := g.group()
	if grp.Position(a+"/deploy") != 1 || grp.Position(c+"/deploy") != 2 {
		t.Errorf("positions: a %d, c %d, want 1 and 2 (%+v)", grp.Position(a+"/deploy"), grp.Position(c+"/deploy"), grp)
	}

	g.finish(b, "deploy", "shipper")
	wantStrings(t, "after b", g.stepStatuses("deploy", a, b, c), []string{dispatched, succeeded, queued})
	g.finish(a, "deploy", "shipper")
	wantStrings(t, "after a", g.stepStatuses("deploy", a, b, c), []string{succeeded, succeeded, dispatched})
	g.finish(c, "deploy", "shipper")
	wantStrings(t, "shipped", g.of("shipper"), []string{b, a, c})
	for _, id := range []string{a, b, c} {
		g.finish(id, "notify", "notifier")
	}
	wantStrings(t, "runs", g.runStatuses(a, b, c), []string{succeeded, succeeded, succeeded})
	if grp := g.group(); len(grp.Running)+len(grp.Queued) != 0 {
		t.Errorf("the group still holds %+v", grp)
	}
	if g.mostDeploysAtOnce() != 1 {
		t.Errorf("deploys at once: %d, want 1", g.mostDeploysAtOnce())
	}
}

// Another env is another group: its deploy runs beside prod's.
func TestStepsOfOtherGroupsRunSideBySide(t *testing.T) {
	g := newStepWorld(t, domain.OnFullQueue)
	g.oneAtOnce = false // two groups
	a, b := g.start("a", "prod"), g.start("b", "staging")
	g.finish(a, "build", "builder")
	g.finish(b, "build", "builder")
	wantStrings(t, "shipped", g.of("shipper"), []string{a, b})
	if g.mostDeploysAtOnce() != 2 {
		t.Errorf("deploys at once: %d, want 2", g.mostDeploysAtOnce())
	}
}

// A run cancelled while its step waits takes the step out of the queue;
// a run cancelled while its step holds the place frees it for the next.
func TestCancellingARunReleasesItsStepsPlace(t *testing.T) {
	g := newStepWorld(t, domain.OnFullQueue)
	a, b, c := g.start("a", "prod"), g.start("b", "prod"), g.start("c", "prod")
	for _, id := range []string{a, b, c} {
		g.finish(id, "build", "builder")
	}
	ctx := context.Background()
	_, err := g.cmd.CancelRun(ctx, commands.CancelRun{RunID: b, Reason: "not needed"})
	must(t, err)
	g.pump()
	if grp := g.group(); grp.Position(b+"/deploy") != 0 || grp.Position(c+"/deploy") != 1 {
		t.Fatalf("after cancelling b: %+v", grp)
	}
	_, err = g.cmd.CancelRun(ctx, commands.CancelRun{RunID: a, Reason: "not needed"})
	must(t, err)
	g.pump()
	wantStrings(t, "runs", g.runStatuses(a, b, c), []string{domain.RunStatusCancelled, domain.RunStatusCancelled, domain.RunStatusRunning})
	wantStrings(t, "shipped", g.of("shipper"), []string{a, c})
}

// skip: a step that finds its group full is skipped, saying why, and so
// are the steps that need it, as for a false condition; its run goes on
// and ends. The step holding the place goes on.
func TestSkipSkipsTheNewStep(t *testing.T) {
	g := newStepWorld(t, domain.OnFullSkip)
	a, b := g.start("a", "prod"), g.start("b", "prod")
	g.finish(a, "build", "builder")
	g.finish(b, "build", "builder")
	s := g.step(b, "deploy")
	if s.Status != domain.StepStatusSkipped || s.Reason != `skipped: concurrency group "deploy-prod" is full (limit 1, onFull skip)` {
		t.Fatalf("b's deploy: %s, %q", s.Status, s.Reason)
	}
	if n := g.step(b, "notify"); n.Status != domain.StepStatusSkipped || n.Reason != "needs step deploy, which was skipped" {
		t.Errorf("b's notify: %s, %q", n.Status, n.Reason)
	}
	wantStrings(t, "runs", g.runStatuses(a, b), []string{domain.RunStatusRunning, domain.RunStatusSucceeded})
	wantStrings(t, "shipped", g.of("shipper"), []string{a})
	g.finish(a, "deploy", "shipper")
	if grp := g.group(); len(grp.Running)+len(grp.Queued) != 0 {
		t.Errorf("the group still holds %+v", grp)
	}
}

// cancel-running: the new step cancels the run whose step holds the place
// and takes it; the cancelled step's driver is told to stop.
func TestCancelRunningCancelsTheRunOfTheHoldingStep(t *testing.T) {
	g := newStepWorld(t, domain.OnFullCancelRunning)
	a, b := g.start("a", "prod"), g.start("b", "prod")
	g.finish(a, "build", "builder")
	g.finish(b, "build", "builder")
	wantStrings(t, "runs", g.runStatuses(a, b), []string{domain.RunStatusCancelled, domain.RunStatusRunning})
	st, err := g.cmd.LoadRun(context.Background(), a)
	must(t, err)
	if msg := st.Run.Message; !strings.Contains(msg, "step deploy") || !strings.Contains(msg, b) || !strings.Contains(msg, "cancel-running") {
		t.Errorf("the cancelled run says %q", msg)
	}
	wantStrings(t, "shipped", g.of("shipper"), []string{a, b})
	wantStrings(t, "b's deploy", g.stepStatuses("deploy", b), []string{domain.StepStatusDispatched})
	stopped := false
	for _, s := range g.d.stopped() {
		stopped = stopped || s.RunID == a && s.Step == "deploy"
	}
	if !stopped {
		t.Errorf("the cancelled step's driver was not told to stop: %+v", g.d.stopped())
	}
	g.finish(b, "deploy", "shipper")
	g.finish(b, "notify", "notifier")
	wantStrings(t, "runs", g.runStatuses(a, b), []string{domain.RunStatusCancelled, domain.RunStatusSucceeded})
}

// cancel-running never cancels a newer holder for an older step: the
// older run's deploy is skipped as superseded.
func TestCancelRunningNeverCancelsANewerStep(t *testing.T) {
	g := newStepWorld(t, domain.OnFullCancelRunning)
	a, b := g.start("a", "prod"), g.start("b", "prod")
	g.finish(b, "build", "builder")
	g.finish(a, "build", "builder")
	wantStrings(t, "runs", g.runStatuses(a, b), []string{domain.RunStatusSucceeded, domain.RunStatusRunning})
	if s := g.step(a, "deploy"); s.Status != domain.StepStatusSkipped || !strings.Contains(s.Reason, "runs made after this one") {
		t.Errorf("the older deploy: %s, %q", s.Status, s.Reason)
	}
	wantStrings(t, "shipped", g.of("shipper"), []string{b})
}

// A server that remembers a run from before its step queued (another
// server decided since) and is handed the group's admission of the step
// reads the run again from the log and dispatches the step: the message
// of the run that queued the step went to the other server.
func TestAStepAdmittedOnAServerThatKnowsAnOlderRun(t *testing.T) {
	g := newStepWorld(t, domain.OnFullQueue)
	ctx := context.Background()
	a := g.start("a", "prod")
	g.finish(a, "build", "builder") // a's deploy holds the group

	second := g.engine(g.d)
	change := g.create("b", "prod")
	must(t, second.Handle(ctx, []domain.Event{change})) // the second server starts b and remembers it
	b := change.EventMeta().CorrelationID
	g.runs = append(g.runs, b)
	r := ok("build", "builder")
	r.RunID, r.MessageID = b, "result-b-build"
	must(t, g.e.RecordResult(ctx, r)) // the first records b's build: b's deploy queues
	wantStrings(t, "b's deploy", g.stepStatuses("deploy", b), []string{domain.StepStatusQueued})

	r = ok("deploy", "shipper")
	r.RunID, r.MessageID = a, "result-a-deploy"
	must(t, g.e.RecordResult(ctx, r)) // a's deploy ends: the group admits b's
	messages := g.messagesOf(domain.AggregateConcurrency, domain.GroupID(deployGroup))
	must(t, second.Handle(ctx, messages[len(messages)-1])) // handed to the second server alone
	wantStrings(t, "b's deploy", g.stepStatuses("deploy", b), []string{domain.StepStatusDispatched})
	wantStrings(t, "shipped", g.of("shipper"), []string{a, b})
}

// A deploy that fails and is retried keeps its place: another run's deploy
// waits through the retry, and gets the place once the retried one ends.
func TestARetriedStepKeepsItsPlaceInTheGroup(t *testing.T) {
	cel, err := conditions.New()
	must(t, err)
	w := newWorldWith(t, cel)
	one := 1
	_, _, err = w.cmd.SavePipeline(context.Background(), commands.SavePipeline{Pipeline: domain.Pipeline{Name: "release", Resource: "build",
		Steps: []domain.Step{
			{ID: "build", Driver: "builder"},
			{ID: "deploy", Driver: "shipper", Needs: []string{"build"}, Retry: &domain.RetryPolicy{Attempts: 2, Backoff: "50ms"},
				Concurrency: &domain.Concurrency{Group: `"deploy-" + resource.spec.env`, Limit: &one}},
			{ID: "notify", Driver: "notifier", Needs: []string{"deploy"}},
		}}}, commands.CreateOnly)
	must(t, err)
	d := &recorder{}
	g := &stepWorld{world: w, e: w.engine(d), d: d, oneAtOnce: true}
	a, b := g.start("a", "prod"), g.start("b", "prod")
	g.finish(a, "build", "builder")
	g.finish(b, "build", "builder")
	r := engine.Result{RunID: a, Step: "deploy", MessageID: "a-deploy-1", Result: domain.DriverResult{Success: false, Driver: "shipper", Message: "flaky"}}
	must(t, g.e.RecordResult(context.Background(), r))
	g.pump()
	wantStrings(t, "deploys while a's waits for its retry", g.stepStatuses("deploy", a, b), []string{domain.StepStatusPending, domain.StepStatusQueued})
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: never", what)
			}
			g.pump()
		}
	}
	waitFor("a's second attempt", func() bool { return g.step(a, "deploy").Attempt == 2 })
	wantStrings(t, "deploys during a's retry", g.stepStatuses("deploy", a, b), []string{domain.StepStatusDispatched, domain.StepStatusQueued})
	g.finish(a, "deploy", "shipper")
	wantStrings(t, "after a's retry", g.stepStatuses("deploy", a, b), []string{domain.StepStatusSucceeded, domain.StepStatusDispatched})
	wantStrings(t, "shipped", g.of("shipper"), []string{a, b})
}
