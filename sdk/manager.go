package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// Manager runs a Driver: it consumes the driver's work and publishes its
// results. Several processes of the same driver share the work.
type Manager struct {
	d    Driver
	opts options
	work *inflight
}

// NewManager checks the driver and the options.
func NewManager(d Driver, opts ...Option) (*Manager, error) {
	o := defaultOptions()
	var errs []error
	for _, opt := range opts {
		errs = append(errs, opt(&o))
	}
	if d == nil {
		errs = append(errs, errors.New("sdk: nil driver"))
	} else {
		if !protocol.ValidName(d.Name()) {
			errs = append(errs, fmt.Errorf("sdk: driver name %q must be 1 to 63 lower-case letters, digits, '-' or '_'", d.Name()))
		}
		if len(d.Resources()) == 0 {
			errs = append(errs, fmt.Errorf("sdk: driver %q listens to no resource type", d.Name()))
		}
		for _, r := range d.Resources() {
			if !protocol.ValidName(r) {
				errs = append(errs, fmt.Errorf("sdk: resource type %q is not a valid name", r))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Manager{d: d, opts: o, work: newInflight()}, nil
}

// Subjects are the subjects the driver's consumer filters: resources.{r}
// (fan-out) and drivers.{name}.resources.{r} (pipeline steps) for each
// resource type r.
func Subjects(d Driver) []string { return protocol.WorkFilters(d.Name(), "", d.Resources()) }

// AbandonAfter bounds how long Run waits, past its grace period, for work
// whose context it cancelled. A reconcile that has not returned by then is
// abandoned: its message is handed back (nak'd, its heartbeats end and its
// in-progress acks stop), so the server delivers the work again, to another
// process of the driver or to this driver's next start, and Run returns.
// The abandoned reconcile's goroutine is left running; its result, should it
// come, is not published.
const AbandonAfter = 5 * time.Second

// Run consumes work until ctx ends. Then it stops taking work, waits up to
// the grace period for work in flight, cancels what is left (those messages
// are handed back for redelivery), waits up to AbandonAfter more for the
// cancelled work to return, abandons what still runs, and returns.
//
// It asks the server for the driver's durable consumer (a driver with
// least-privilege credentials may not create one), and with labels
// (WithLabels) for one more per non-empty subset of them, all sharing the
// process's WithConcurrency slots, and publishes results on
// pipelines.driver.result.{name}. A server that does not answer that request
// (an older one, or none in open mode) leaves it to the manager: it creates
// the consumer itself and publishes results on pipelines.driver.result.
func (m *Manager) Run(ctx context.Context) error {
	log := m.opts.logger.With("driver", m.d.Name())
	nc := m.opts.conn
	if nc == nil {
		var err error
		// Until a NATS server answers at the URL; a refusal of the
		// credentials is final.
		nc, err = untilUp(ctx, log, "connecting to NATS", m.connect, func(err error) bool { return !errors.Is(err, nats.ErrNoServers) })
		if ctx.Err() != nil {
			if nc != nil {
				nc.Close()
			}
			return nil // stopped before it began
		}
		if err != nil {
			return err
		}
		defer nc.Close()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	// Until the server answers (it may be starting, or restarting), unless
	// it refuses.
	type consumersAndSubject struct {
		cons    []jetstream.Consumer
		results string
	}
	got, err := untilUp(ctx, log, "asking for the driver's consumer", func() (consumersAndSubject, error) {
		cons, results, err := m.consumers(ctx, nc, js)
		return consumersAndSubject{cons, results}, err
	}, isPermanent)
	consumers, results := got.cons, got.results
	if ctx.Err() != nil {
		return nil // stopped before it began: nothing taken, nothing to finish
	}
	if err != nil {
		return fmt.Errorf("sdk: consumer %s: %w", m.d.Name(), err)
	}
	log.Info("waiting for work", "resources", m.d.Resources(), "labels", m.opts.labels, "concurrency", m.opts.concurrency)
	defer m.announce(nc, PresenceInterval)()
	if sub, err := m.followStops(nc); err != nil {
		m.opts.logger.Warn("not following stop notices: cancelled runs are not stopped here", "driver", m.d.Name(), "err", err)
	} else {
		defer func() { _ = sub.Unsubscribe() }()
	}

	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	abandoned, abandon := context.WithCancel(context.Background())
	defer abandon()
	// The slots are the process's, shared by its consumers: it never runs
	// more than its concurrency at once, whichever label set the work is for.
	slots := make(chan struct{}, m.opts.concurrency)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		stopped bool
	)
	take := func(msg jetstream.Msg) {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			_ = msg.Nak()
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			<-slots
			_ = msg.Nak()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			m.handle(workCtx, abandoned, js, results, msg)
		}()
	}
	var consuming []jetstream.ConsumeContext
	stopConsuming := func() {
		for _, cc := range consuming {
			cc.Stop()
		}
	}
	// A message delivered while every slot is taken waits in its
	// consumer's callback for one. With several consumers, each asks for
	// one message at a time, so that a busy process holds at most one per
	// consumer, not its concurrency's worth in each.
	batch := m.opts.concurrency
	if len(consumers) > 1 {
		batch = 1
	}
	for _, cons := range consumers {
		cc, err := cons.Consume(take, jetstream.PullMaxMessages(batch))
		if err != nil {
			stopConsuming()
			return fmt.Errorf("sdk: consume: %w", err)
		}
		consuming = append(consuming, cc)
	}
	<-ctx.Done()
	stopConsuming()
	mu.Lock()
	stopped = true
	mu.Unlock()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(m.opts.grace):
		cancelWork()
		select {
		case <-done:
		case <-time.After(AbandonAfter):
			log.Warn("work still running " + AbandonAfter.String() + " after its cancel is abandoned and handed back")
			abandon()
		}
	}
	return nil
}

// handle reconciles one message and acknowledges it once its result is
// published. When abandoned ends before the reconcile returns, the message
// is handed back at once.
func (m *Manager) handle(ctx, abandoned context.Context, js jetstream.JetStream, results string, msg jetstream.Msg) {
	log := m.opts.logger.With("driver", m.d.Name(), "subject", msg.Subject())
	work, resource, err := decodeWork(msg.Data())
	if err != nil {
		log.Error("message parked: not the protocol's JSON", "err", err)
		_ = msg.Term()
		return
	}
	step := work.Step
	isStep := strings.HasPrefix(msg.Subject(), "drivers.")
	logger := newLogger(js, work.RunID, m.d.Name(), resource.Pipeline, step, work.Attempt, log)
	key := idempotencyKey(work)
	adm := m.work.begin(ctx, key, logger)
	switch {
	case adm.stopped != "":
		log.Info("work not started: "+adm.stopped, "run", work.RunID, "step", work.Step)
		_ = msg.Ack() // the server withdrew it; its result would be ignored
		return
	case adm.earlier != nil:
		m.settleAgain(ctx, msg, adm, logger, key, log)
		return
	}
	defer adm.end(false) // handed back, unless finish settled it
	stepCtx := adm.ctx
	var secrets map[string]string
	if len(work.Secrets) > 0 {
		if secrets, err = m.fetchSecrets(stepCtx, js.Conn(), work); err != nil {
			log.Warn("secrets not received; the step fails", "run", work.RunID, "step", work.Step, "err", err)
			m.finish(ctx, js, results, msg, work, resource, Result{Success: false, Message: "secrets: " + err.Error()}, isStep, adm.end, log)
			return
		}
		for _, v := range secrets {
			logger.secrets = append(logger.secrets, v)
		}
	}
	// In progress until the message is settled: publishing the result may
	// wait for a server that is restarting.
	stopProgress := sync.OnceFunc(keepInProgress(msg, m.opts.ackWait/3))
	defer stopProgress()
	stopBeats := func() {}
	if isStep && work.Step != "" {
		stopBeats = sync.OnceFunc(sendHeartbeats(js.Conn(), m.d.Name(), work, HeartbeatInterval))
	}
	// The heartbeats go on until the result is stored or the work handed
	// back: a result still on its way must not look like a dead driver.
	defer stopBeats()
	defer context.AfterFunc(abandoned, func() {
		stopProgress()
		stopBeats()
		adm.end(false)
		_ = msg.Nak()
	})()
	log.Info("work taken", "run", work.RunID, "step", step, "attempt", work.Attempt)
	started := time.Now()
	result := m.reconcile(stepCtx, Request{Event: work.Event, Resource: resource, RunID: work.RunID,
		Step: step, Attempt: work.Attempt, IdempotencyKey: key, Log: logger, Secrets: secrets, With: work.With})
	logger.Flush()
	if ctx.Err() != nil {
		adm.end(false)
		_ = msg.Nak() // shut down mid-work: another instance takes it
		return
	}
	log.Info("work done", "run", work.RunID, "step", step, "attempt", work.Attempt, "success", result.Success,
		"message", clip(result.Message, 200), "took", time.Since(started).Round(time.Millisecond))
	m.finish(ctx, js, results, msg, work, resource, result, isStep, adm.end, log)
}

// clip is s cut to at most n bytes (on a rune boundary), for a log line.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// finish publishes the result of a step and acknowledges its message. A
// result that cannot be published, even after waiting for the server, leaves
// the message to come again. Either way end settles the work here first, so
// that a delivery of it the server makes once it has the ack is known as
// stored, not as running.
func (m *Manager) finish(ctx context.Context, js jetstream.JetStream, results string, msg jetstream.Msg, work protocol.Work,
	resource Resource, result Result, isStep bool, end func(acked bool), log *slog.Logger) {
	if isStep {
		if err := m.publishResultPatiently(ctx, js, results, work, resource, result, log); err != nil {
			log.Warn("result not published; the work comes again", "run", work.RunID, "err", err)
			end(false)
			_ = msg.NakWithDelay(m.backoff(msg))
			return
		}
	}
	end(true)
	if err := msg.DoubleAck(ctx); err != nil {
		// The result is stored: should the work come again, it is
		// recognised and acknowledged without running.
		log.Warn("ack failed; the work may come again", "err", err)
	}
}

// reconcile calls the driver; a panic becomes a failed result.
func (m *Manager) reconcile(ctx context.Context, req Request) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{Success: false, Message: fmt.Sprintf("driver %s panicked: %v", m.d.Name(), p)}
		}
	}()
	return m.d.Reconcile(ctx, req)
}

func (m *Manager) publishResult(ctx context.Context, js jetstream.JetStream, subject string, w protocol.Work, r Resource, res Result) error {
	resource, err := json.Marshal(r)
	if err != nil {
		return err
	}
	data, err := json.Marshal(res.Data)
	if err != nil {
		return err
	}
	body, err := json.Marshal(protocol.Result{Event: "driver.result", RunID: w.RunID, Resource: resource, Step: w.Step,
		DriverResult: &protocol.DriverResult{Success: res.Success, Message: res.Message, Data: data, Driver: m.d.Name()}})
	if err != nil {
		return err
	}
	opts := []jetstream.PublishOpt{}
	if w.ID != "" {
		opts = append(opts, jetstream.WithMsgID(w.ID+".result"))
	}
	_, err = js.Publish(ctx, subject, body, opts...)
	return err
}

func (m *Manager) backoff(msg jetstream.Msg) time.Duration {
	n := 0
	if meta, err := msg.Metadata(); err == nil {
		n = int(meta.NumDelivered) - 1
	}
	if n >= len(m.opts.backoff) {
		n = len(m.opts.backoff) - 1
	}
	return m.opts.backoff[max(n, 0)]
}

// keepInProgress tells the server every interval that the message is still
// being worked on, until the returned stop is called.
func keepInProgress(msg jetstream.Msg, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	return func() { close(done) }
}
