package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/adapters/schema"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
	"github.com/google/uuid"
)

// recorder is a dispatcher that keeps every work it is handed, every work
// withdrawn and every stop notice.
type recorder struct {
	mu               sync.Mutex
	works, withdrawn []engine.Work
	stops            []engine.Stop
}

func (r *recorder) Stop(_ context.Context, s engine.Stop) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stops = append(r.stops, s)
	return nil
}

func (r *recorder) stopped() []engine.Stop {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]engine.Stop(nil), r.stops...)
}

func (r *recorder) Withdraw(_ context.Context, w engine.Work) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.withdrawn = append(r.withdrawn, w)
	return nil
}

func (r *recorder) gone() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, w := range r.withdrawn {
		ids = append(ids, w.Driver+" "+w.Resource.Type+" "+w.MessageID)
	}
	return ids
}

func (r *recorder) Dispatch(_ context.Context, w engine.Work) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.works = append(r.works, w)
	return nil
}

func (r *recorder) all() []engine.Work {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]engine.Work(nil), r.works...)
}

type noResources struct{}

func (noResources) CountResources(context.Context, string) (int, error) { return 0, nil }

// world is an event log on a real JetStream with a definition and a
// two-step pipeline in it.
type world struct {
	t     *testing.T
	store *eventstore.Store
	cmd   *commands.Handler
}

func newWorld(t *testing.T) *world { return newWorldWith(t, nil) }

// newWorldWith is newWorld whose commands evaluate conditions and
// parameters with conds.
func newWorldWith(t *testing.T, conds domain.Conditions) *world {
	t.Helper()
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	ctx := context.Background()
	store, err := eventstore.New(ctx, js, eventstore.Config{})
	must(t, err)
	cmd, err := commands.New(commands.Deps{Store: store, Schemas: schema.New(), Resources: noResources{},
		Now: time.Now, NewID: uuid.NewString, Conditions: conds})
	must(t, err)
	_, _, err = cmd.SaveDefinition(ctx, commands.SaveDefinition{Definition: domain.ResourceDefinition{Name: "build", Schema: json.RawMessage(`{}`)}}, commands.CreateOnly)
	must(t, err)
	_, _, err = cmd.SavePipeline(ctx, commands.SavePipeline{Pipeline: domain.Pipeline{Name: "ci", Resource: "build",
		Steps: []domain.Step{{ID: "compile", Driver: "compiler"}, {ID: "upload", Driver: "uploader"}}}}, commands.CreateOnly)
	must(t, err)
	return &world{t: t, store: store, cmd: cmd}
}

// engine starts an engine over the world with its own memory, as one
// server's engine.
func (w *world) engine(d engine.Dispatcher) *engine.Engine {
	e := engine.New(w.cmd, d, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	w.t.Cleanup(func() { cancel(); <-done })
	return e
}

// created creates a resource naming the pipeline and returns its event.
func (w *world) created(name string) *domain.ResourceCreated {
	ctx := context.Background()
	_, err := w.cmd.CreateResource(ctx, commands.CreateResource{Resource: domain.Resource{Name: name, Type: "build", Pipeline: "ci",
		Spec: json.RawMessage(`{}`)}})
	must(w.t, err)
	events, err := w.store.Load(ctx, domain.AggregateResource, "build/"+name)
	must(w.t, err)
	return events[0].(*domain.ResourceCreated)
}

// startedOn creates a resource naming the pipeline and hands its event to
// e, which starts the run; it returns the event.
func (w *world) startedOn(e *engine.Engine, name string) *domain.ResourceCreated {
	change := w.created(name)
	must(w.t, e.Handle(context.Background(), []domain.Event{change}))
	return change
}

// messages are a run's events as the log holds them, one slice per message.
func (w *world) messages(runID string) [][]domain.Event {
	return w.messagesOf(domain.AggregateRun, runID)
}

// messagesOf are an aggregate's events as the log holds them, one slice per
// message.
func (w *world) messagesOf(aggregate, id string) [][]domain.Event {
	events, err := w.store.Load(context.Background(), aggregate, id)
	must(w.t, err)
	var out [][]domain.Event
	for i, e := range events {
		if i == 0 || e.EventMeta().Sequence != events[i-1].EventMeta().Sequence {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], e)
	}
	return out
}

func (w *world) count(runID, typ string) (counted, ignored int) {
	for _, m := range w.messages(runID) {
		for _, e := range m {
			if e.EventMeta().Type != typ {
				continue
			}
			if r, ok := e.(*domain.DriverResultRecorded); ok && r.Ignored != "" {
				ignored++
				continue
			}
			counted++
		}
	}
	return counted, ignored
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ok(step, driver string) engine.Result {
	return engine.Result{Step: step, Result: domain.DriverResult{Success: true, Driver: driver, Message: "done"}}
}

// One driver result, delivered again and again, handled by this server's
// intake and another server's at once while the engines react to the run's
// events: it is recorded once, with no ignored copy, and the next step is
// dispatched once.
func TestAResultIsRecordedOnceUnderTheIntakeAndEngineRace(t *testing.T) {
	w := newWorld(t)
	d1, d2 := &recorder{}, &recorder{}
	e1, e2 := w.engine(d1), w.engine(d2)
	ctx := context.Background()
	change := w.created("app-1")
	runID := change.CorrelationID
	must(t, e1.Handle(ctx, []domain.Event{change}))

	result := ok("compile", "compiler")
	result.RunID, result.MessageID = runID, "result-42"
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			e := e1
			if i%2 == 1 {
				e = e2
			}
			errs <- e.RecordResult(ctx, result)
		}()
		go func() {
			defer wg.Done()
			for _, m := range w.messages(runID) {
				errs <- e1.Handle(ctx, m)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("handling: %v", err)
		}
	}
	if counted, ignored := w.count(runID, domain.TypeDriverResultRecorded); counted != 1 || ignored != 0 {
		t.Errorf("the result was recorded %d times and ignored %d times, want once and never", counted, ignored)
	}
	dispatched := 0
	for _, m := range w.messages(runID) {
		for _, e := range m {
			if d, ok := e.(*domain.StepDispatched); ok && d.Step == "upload" {
				dispatched++
			}
		}
	}
	if dispatched != 1 {
		t.Errorf("upload was dispatched %d times in the log, want 1", dispatched)
	}
}

// A run that ended, its events consumed again from the start (a new
// consumer, a rebuild, a redelivery long after the duplicate window) by an
// engine that never saw it: nothing is published, and nothing counted.
func TestReplayingAFinishedRunPublishesNothing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	live := &recorder{}
	e := w.engine(live)
	change := w.startedOn(e, "app-2")
	runID := change.CorrelationID
	for i, step := range []engine.Result{ok("compile", "compiler"), ok("upload", "uploader")} {
		step.RunID, step.MessageID = runID, fmt.Sprintf("result-%d", i)
		must(t, e.RecordResult(ctx, step))
	}
	if got := len(live.all()); got != 2 {
		t.Fatalf("the live run published %d works, want 2 (one per step)", got)
	}
	if n := e.StepsDispatched(); n != 2 {
		t.Errorf("the engine counts %d steps dispatched, want 2", n)
	}
	run, err := w.cmd.LoadRun(ctx, runID)
	must(t, err)
	if run.Run.Status != domain.RunStatusSucceeded {
		t.Fatalf("the run is %s, want succeeded", run.Run.Status)
	}

	replay := &recorder{}
	fresh := w.engine(replay)
	must(t, fresh.Handle(ctx, []domain.Event{change}))
	for _, m := range w.messages(runID) {
		must(t, fresh.Handle(ctx, m))
	}
	if works := replay.all(); len(works) != 0 || fresh.StepsDispatched() != 0 {
		t.Errorf("replaying a finished run published %+v (%d counted)", works, fresh.StepsDispatched())
	}
}

// A step that waits for its driver when the engine comes back (it died
// after recording the dispatch, before publishing) is published by the
// engine that reads the dispatch from the log, with the step's message id.
func TestAWaitingStepIsPublishedFromTheLog(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	change := w.created("app-3")
	runID := change.CorrelationID
	// The run is started by a command alone: nothing was published.
	_, err := w.cmd.StartRun(ctx, commands.StartRun{Change: change})
	must(t, err)
	d := &recorder{}
	e := w.engine(d)
	for _, m := range w.messages(runID) {
		must(t, e.Handle(ctx, m))
	}
	works := d.all()
	if len(works) != 1 || works[0].Step != "compile" || works[0].MessageID != engine.StepMessageID(runID, "compile", 1) {
		t.Errorf("published %+v, want the compile step once", works)
	}
}

// A run the engine forgot between its steps (the server let go of its
// caches once quiet) goes on from the log: the next result is recorded,
// the next step is published once, and the run ends as it would have.
func TestARunForgottenBetweenStepsGoesOn(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	d := &recorder{}
	e := w.engine(d)
	runID := w.startedOn(e, "app-forgotten").CorrelationID
	for i, step := range []engine.Result{ok("compile", "compiler"), ok("upload", "uploader")} {
		e.ForgetRuns()
		step.RunID, step.MessageID = runID, fmt.Sprintf("result-%d", i)
		must(t, e.RecordResult(ctx, step))
	}
	var steps []string
	for _, work := range d.all() {
		steps = append(steps, work.Step)
	}
	if fmt.Sprint(steps) != "[compile upload]" {
		t.Errorf("published the steps %v, want [compile upload], each once", steps)
	}
	run, err := w.cmd.LoadRun(ctx, runID)
	must(t, err)
	if run.Run.Status != domain.RunStatusSucceeded {
		t.Errorf("the run is %s, want succeeded", run.Run.Status)
	}
	if counted, ignored := w.count(runID, domain.TypeDriverResultRecorded); counted != 2 || ignored != 0 {
		t.Errorf("%d results recorded and %d ignored, want 2 and 0", counted, ignored)
	}
}
