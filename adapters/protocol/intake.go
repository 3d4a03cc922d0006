package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
	"github.com/conveyor/conveyor/projections"
	wire "github.com/conveyor/conveyor/sdk/protocol"
	"github.com/nats-io/nats.go/jetstream"
)

// IntakeConsumer names the durable consumer of driver results.
const IntakeConsumer = "engine-results"

// IntakeConfig tunes the result intake.
type IntakeConfig struct {
	AckWait    time.Duration // default 30s
	MaxDeliver int           // default 10: a result still failing at its last delivery is parked
	NakDelay   time.Duration // default 500ms
	// Workers is how many results are recorded at once (default 16). Results
	// of one run are serialised by the run's optimistic concurrency.
	Workers int
	Logger  *slog.Logger
	// Parking keeps the results that cannot be recorded (nil: they are
	// only logged).
	Parking projections.Parking
	// RequireSender refuses results on the bare ResultSubject, which says
	// nothing of who sent them: set it when NATS lets driver NAME alone
	// publish on DriverResultSubject(NAME). Off (open mode), the original
	// runtime's results on the bare subject are accepted.
	RequireSender bool
	// Redelivered, when set, is called for each result delivered again.
	Redelivered func()
}

func (c *IntakeConfig) setDefaults() {
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 10
	}
	if c.NakDelay == 0 {
		c.NakDelay = 500 * time.Millisecond
	}
	if c.Workers == 0 {
		c.Workers = 16
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// RunIntake consumes `pipelines.driver.result` and
// `pipelines.driver.result.{driver}` until ctx ends and hands every result to
// record, with the driver of the subject as its sender. A result that cannot
// be decoded, names an unknown run, comes from a sender its step was not
// dispatched to (domain.ErrForeignResult) or, with RequireSender, on the bare
// subject, is parked, terminated and logged (a poison message never blocks
// the others); any other error is retried after NakDelay.
func RunIntake(ctx context.Context, js jetstream.JetStream, cfg IntakeConfig, record func(context.Context, engine.Result) error) error {
	cfg.setDefaults()
	var cons jetstream.Consumer
	for {
		var err error
		cons, err = js.CreateOrUpdateConsumer(ctx, EngineStream, jetstream.ConsumerConfig{
			Durable: IntakeConsumer, FilterSubjects: []string{ResultSubject, ResultSubject + ".*"}, AckPolicy: jetstream.AckExplicitPolicy,
			AckWait: cfg.AckWait, MaxDeliver: cfg.MaxDeliver, MaxAckPending: 1000,
		})
		if err == nil {
			break
		}
		cfg.Logger.Warn("result consumer not ready; trying again", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	slots := make(chan struct{}, cfg.Workers)
	var wg sync.WaitGroup
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			handleResult(ctx, msg, cfg, record)
		}()
	}, jetstream.PullMaxMessages(cfg.Workers))
	if err != nil {
		return fmt.Errorf("consume results: %w", err)
	}
	<-ctx.Done()
	cc.Drain()
	<-cc.Closed()
	wg.Wait()
	return nil
}

func handleResult(ctx context.Context, msg jetstream.Msg, cfg IntakeConfig, record func(context.Context, engine.Result) error) {
	r, err := decodeResult(msg)
	if err != nil {
		park(ctx, msg, cfg, "", fmt.Errorf("cannot decode: %w", err))
		return
	}
	if r.Sender, err = senderOf(msg.Subject(), cfg.RequireSender); err != nil {
		park(ctx, msg, cfg, r.RunID, err)
		return
	}
	err = record(ctx, r)
	meta, _ := msg.Metadata()
	if meta != nil && meta.NumDelivered > 1 && cfg.Redelivered != nil {
		cfg.Redelivered()
	}
	switch {
	case err == nil:
		_ = msg.Ack()
	case errors.Is(err, engine.ErrUnknownRun), errors.Is(err, domain.ErrForeignResult):
		park(ctx, msg, cfg, r.RunID, err)
	case meta != nil && int(meta.NumDelivered) >= cfg.MaxDeliver:
		park(ctx, msg, cfg, r.RunID, fmt.Errorf("still failing after %d deliveries: %w", meta.NumDelivered, err))
	default:
		cfg.Logger.Info("driver result will be retried", "run", r.RunID, "err", err)
		_ = msg.NakWithDelay(cfg.NakDelay)
	}
}

// park sets a result aside that cannot be recorded, and terminates it so it
// is not delivered again. When even parking fails, it is delivered again.
func park(ctx context.Context, msg jetstream.Msg, cfg IntakeConfig, runID string, reason error) {
	cfg.Logger.Warn("driver result parked", "err", reason, "subject", msg.Subject())
	if cfg.Parking != nil {
		entry := projections.ParkedEvent{Consumer: "intake", Type: "driver.result", Aggregate: "run", AggregateID: runID,
			Error: reason.Error(), ParkedAt: time.Now().UTC(), Body: msg.Data()}
		if meta, err := msg.Metadata(); err == nil {
			entry.Sequence = meta.Sequence.Stream
		}
		if err := cfg.Parking.Park(ctx, entry); err != nil {
			_ = msg.NakWithDelay(cfg.NakDelay)
			return
		}
	}
	_ = msg.Term()
}

// senderOf is the driver a result's subject names: "" for the bare
// ResultSubject, refused when requireSender says a result must name one.
func senderOf(subject string, requireSender bool) (string, error) {
	if subject == ResultSubject {
		if requireSender {
			return "", errors.New("result on " + ResultSubject + ", which anyone may publish on, refused while NATS requires credentials: drivers publish on " + ResultSubject + ".{driver}")
		}
		return "", nil
	}
	sender, _ := strings.CutPrefix(subject, ResultSubject+".")
	if !domain.ValidName(sender) {
		return "", fmt.Errorf("result on %s names no driver", subject)
	}
	return sender, nil
}

func decodeResult(msg jetstream.Msg) (engine.Result, error) {
	r, err := parseResult(msg.Data())
	if err != nil {
		return r, err
	}
	meta, err := msg.Metadata()
	if err != nil {
		return engine.Result{}, err
	}
	r.MessageID = fmt.Sprintf("result-%d", meta.Sequence.Stream)
	return r, nil
}

// parseResult reads a driver's result message (docs/protocol.md). It refuses
// anything that is not one: malformed JSON, no driverresult, a run_id that
// is not a Run ID.
func parseResult(data []byte) (engine.Result, error) {
	var m wire.Result
	if err := json.Unmarshal(data, &m); err != nil {
		return engine.Result{}, fmt.Errorf("malformed JSON: %w", err)
	}
	if m.DriverResult == nil {
		return engine.Result{}, errors.New("no driverresult")
	}
	if !domain.ValidRunID(m.RunID) {
		return engine.Result{}, fmt.Errorf("run_id %q is not a run id", m.RunID)
	}
	data2 := m.DriverResult.Data
	if len(data2) == 0 || string(data2) == "null" {
		data2 = nil
	}
	if m.Step != "" && !domain.ValidStepID(m.Step) {
		return engine.Result{}, fmt.Errorf("step %q is not a step id", m.Step)
	}
	return engine.Result{
		RunID: m.RunID, Step: m.Step,
		Result: domain.DriverResult{Success: m.DriverResult.Success, Message: m.DriverResult.Message,
			Data: data2, Driver: m.DriverResult.Driver},
	}, nil
}
