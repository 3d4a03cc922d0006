package eventbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/conveyor/conveyor/adapters/eventjson"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Handler handles the events of one message of the log: the events one
// command recorded, in order, each with the message's sequence. An error is
// retried a few times at once (Config.Retries); a message that still fails
// is parked (Config.Poison) unless the error marks a dependency as
// unavailable, in which case it is Nak'ed and delivered again after
// Config.NakDelay. Handlers must be idempotent: JetStream delivers at least
// once.
type Handler func(ctx context.Context, events []domain.Event) error

// Subscription is one durable consumer of the event log. Events reach Handle
// one at a time, in log order, except that an event whose handler failed is
// delivered again later, after events behind it.
type Subscription struct {
	// Name names the durable consumer; it must stay stable. Renaming it
	// re-consumes every event of the log.
	Name string
	// Aggregates limits what reaches Handle to events of these aggregate
	// kinds; empty means every event. The durable consumer itself has one
	// filter subject (the aggregate's, when there is one, else the whole
	// log): with several, nats-server intersects them with every subject of
	// the stream, one per run, so each delivery would cost more as the
	// history grows. Messages of other aggregates are acknowledged unread.
	Aggregates []string
	// Types limits what reaches Handle further, to the messages that hold
	// an event of one of these types (their type header says so); empty
	// means every type. Messages of other types are acknowledged unread:
	// no decoding of events the handler would pass over.
	Types  []string
	Handle Handler
	// Workers is how many events of this subscription are handled at once
	// (default 1). With more than one, events reach Handle out of log order,
	// so Handle must not depend on it: the projections wait on gaps, the
	// engine decides from the whole aggregate.
	Workers int
	// Prefetch is how many messages each worker pulls ahead (default: 64
	// for one worker; 1 for several, so that none hoards what the others
	// could share). A handler that passes over most messages at once does
	// best with more: each pull is a round trip to the server.
	Prefetch int
	// StartAt is the log position a durable consumer that does not exist
	// yet starts at (0: the log's beginning); one that exists resumes where
	// it stands.
	StartAt uint64
}

// Config configures the consumers.
type Config struct {
	Stream        string        // default "CONVEYOR_EVENTS"
	SubjectPrefix string        // default "conveyor.events"
	AckWait       time.Duration // default 30s: a handler running longer gets the event again
	NakDelay      time.Duration // default 200ms
	Logger        *slog.Logger  // nil discards
	// Retries is how many times a failing handler is retried at once,
	// with a growing delay, before the message is parked (default 3).
	Retries int
	// Poison, when set, receives the messages that still fail after the
	// retries (watermill's poison-queue middleware), so that they do not
	// hold back the messages behind them. Nil: they are Nak'ed without end.
	Poison message.Publisher
	// Redelivered, when set, is called for each message delivered again
	// (after a handler's failure, a crash or an ack wait).
	Redelivered func()
}

func (c *Config) setDefaults() {
	if c.Stream == "" {
		c.Stream = "CONVEYOR_EVENTS"
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = "conveyor.events"
	}
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	if c.NakDelay == 0 {
		c.NakDelay = 200 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Retries == 0 {
		c.Retries = 3
	}
}

// Connect opens a NATS connection for one subscription. watermill's
// subscriber drains its connection when it closes, so each gets its own.
type Connect func() (*nats.Conn, error)

// metaSequence is the watermill metadata key holding the stream sequence.
const metaSequence = "Conveyor-Sequence"

// Run consumes the log with watermill's cqrs event group processor on
// watermill-nats until ctx ends, one handler group (and one durable
// consumer) per subscription. It returns after in-flight handlers finished.
// When NATS is away, starting the consumers fails; Run then tries again
// every few seconds instead of giving up.
func Run(ctx context.Context, connect Connect, cfg Config, subs ...Subscription) error {
	cfg.setDefaults()
	if err := validate(subs); err != nil {
		return err
	}
	for {
		var conns []*nats.Conn
		var mu sync.Mutex
		tracked := func() (*nats.Conn, error) {
			nc, err := connect()
			if err == nil {
				mu.Lock()
				conns = append(conns, nc)
				mu.Unlock()
			}
			return nc, err
		}
		err := runOnce(ctx, tracked, cfg, subs)
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
		if ctx.Err() != nil {
			return nil
		}
		cfg.Logger.Warn("event consumers stopped; starting them again", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
}

func runOnce(ctx context.Context, connect Connect, cfg Config, subs []Subscription) error {
	logger := conflictsAtInfo{watermill.NewSlogLoggerWithLevelMapping(cfg.Logger, map[slog.Level]slog.Level{
		slog.LevelInfo: slog.LevelDebug, // watermill reports every message at info
	})}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.AckWait}, logger)
	if err != nil {
		return err
	}
	if err := addMiddleware(router, cfg, logger); err != nil {
		return err
	}
	// Each worker is a handler of its own, with its own subscriber, all
	// bound to the subscription's one durable consumer.
	for _, s := range subs {
		for w := range max(s.Workers, 1) {
			name := groupName(s, w)
			nc, err := connect()
			if err != nil {
				return err
			}
			sub, err := wmjs.NewSubscriber(wmjs.SubscriberConfig{
				Conn: nc, Logger: watermill.NopLogger{}, AckWaitTimeout: cfg.AckWait,
				NakDelay:            wmjs.NewStaticDelay(cfg.NakDelay),
				ResourceInitializer: durable(cfg, s),
				Unmarshaler:         unmarshaler{redelivered: cfg.Redelivered},
				// One message at a time per worker: a bigger prefetch would
				// let one worker take the backlog the others could share.
				ConsumeOptions: []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(workerPrefetch(s))},
			})
			if err != nil {
				nc.Close()
				return err
			}
			router.AddNoPublisherHandler(name, name, newSafeSubscriber(sub, nc), handlerOf(s.Handle, s.Aggregates, s.Types))
		}
	}
	if err := router.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if ctx.Err() == nil {
		return errors.New("the router stopped")
	}
	return nil
}

// workerPrefetch is how many messages one worker pulls ahead: a single
// worker may buffer, several must not hoard.
func workerPrefetch(s Subscription) int {
	if s.Prefetch > 0 {
		return s.Prefetch
	}
	if s.Workers > 1 {
		return 1
	}
	return 64
}

func groupName(s Subscription, worker int) string {
	if worker == 0 {
		return s.Name
	}
	return fmt.Sprintf("%s#%d", s.Name, worker)
}

func validate(subs []Subscription) error {
	var errs []error
	seen := map[string]bool{}
	for _, s := range subs {
		if s.Name == "" || strings.ContainsAny(s.Name, ". *>") {
			errs = append(errs, fmt.Errorf("eventbus: subscription name %q must be non-empty without '.', ' ', '*' or '>'", s.Name))
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("eventbus: subscription %q given twice", s.Name))
		}
		seen[s.Name] = true
		if s.Handle == nil {
			errs = append(errs, fmt.Errorf("eventbus: subscription %q has no handler", s.Name))
		}
	}
	return errors.Join(errs...)
}

// durable creates (or updates) the subscription's durable consumer and
// returns no closer, so the consumer and its position survive a stop.
func durable(cfg Config, s Subscription) wmjs.ResourceInitializer {
	return func(ctx context.Context, js jetstream.JetStream, _ string) (jetstream.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
		cc := jetstream.ConsumerConfig{
			Durable: s.Name, AckPolicy: jetstream.AckExplicitPolicy, AckWait: cfg.AckWait,
			DeliverPolicy: jetstream.DeliverAllPolicy, MaxDeliver: -1, MaxAckPending: 1000,
		}
		cc.FilterSubject = FilterSubject(cfg.SubjectPrefix, s.Aggregates)
		if s.StartAt > 0 {
			existing, err := js.Consumer(ctx, cfg.Stream, s.Name)
			switch {
			case err == nil: // where it started is not to be changed
				cc.DeliverPolicy, cc.OptStartSeq = existing.CachedInfo().Config.DeliverPolicy, existing.CachedInfo().Config.OptStartSeq
			case errors.Is(err, jetstream.ErrConsumerNotFound):
				cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, s.StartAt
			default:
				return nil, nil, fmt.Errorf("durable consumer %s: %w", s.Name, err)
			}
		}
		cons, err := js.CreateOrUpdateConsumer(ctx, cfg.Stream, cc)
		if err != nil {
			return nil, nil, fmt.Errorf("durable consumer %s: %w", s.Name, err)
		}
		return cons, nil, nil
	}
}

// FilterSubject is the one filter subject of a subscription to the
// aggregates' events under prefix: the aggregate's subjects when there is
// one, else the whole log.
func FilterSubject(prefix string, aggregates []string) string {
	if len(aggregates) == 1 {
		return prefix + "." + aggregates[0] + ".>"
	}
	return prefix + ".>"
}

// unmarshaler is watermill-nats's default, plus the stream sequence.
type unmarshaler struct{ redelivered func() }

func (u unmarshaler) Unmarshal(msg jetstream.Msg) (*message.Message, error) {
	m, err := wmjs.DefaultUnmarshaler{}.Unmarshal(msg)
	if err != nil || m == nil {
		// Never hand watermill a nil message: decode errors surface in the
		// marshaler, where the event is parked by the handler's retries.
		m = message.NewMessage(watermill.NewUUID(), msg.Data())
		m.Metadata.Set("name", msg.Headers().Get("name"))
	}
	if meta, err := msg.Metadata(); err == nil {
		m.Metadata.Set(metaSequence, strconv.FormatUint(meta.Sequence.Stream, 10))
		if meta.NumDelivered > 1 && u.redelivered != nil {
			u.redelivered()
		}
	}
	return m, nil
}

// addMiddleware puts, from the outside in: the poison queue (when
// cfg.Poison is set), the retries, and the recoverer, which turns a
// handler's panic into an error, so that a panic never ends the server.
func addMiddleware(router *message.Router, cfg Config, logger watermill.LoggerAdapter) error {
	if cfg.Poison != nil {
		poison, err := middleware.PoisonQueueWithFilter(cfg.Poison, "parked", func(err error) bool {
			return !errors.Is(err, domain.ErrUnavailable) && !errors.Is(err, context.Canceled)
		})
		if err != nil {
			return err
		}
		router.AddMiddleware(poison)
	}
	router.AddMiddleware(
		middleware.Retry{MaxRetries: cfg.Retries, InitialInterval: 50 * time.Millisecond, MaxInterval: time.Second,
			Multiplier: 3, Logger: logger,
			ShouldRetry: func(p middleware.RetryParams) bool {
				return !errors.Is(p.Err, context.Canceled)
			}}.Middleware,
		middleware.Recoverer,
	)
	return nil
}

// handlerOf decodes a message's events and hands them to h, when they are
// of one of the aggregates (any when none are named).
func handlerOf(h Handler, aggregates, types []string) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		if a := msg.Metadata.Get(eventstore.HeaderAggregate); len(aggregates) > 0 && a != "" && !slices.Contains(aggregates, a) {
			return nil
		}
		if t := msg.Metadata.Get(eventstore.HeaderType); len(types) > 0 && t != "" && !holdsAny(t, types) {
			return nil
		}
		seq, _ := strconv.ParseUint(msg.Metadata.Get(metaSequence), 10, 64)
		events, err := eventjson.DecodeAt(msg.Payload, seq)
		if err != nil {
			return fmt.Errorf("eventbus: %w", err)
		}
		return h(msg.Context(), events)
	}
}

// holdsAny reports whether the comma-separated types of a message's header
// name one of types.
func holdsAny(header string, types []string) bool {
	for t := range strings.SplitSeq(header, ",") {
		if slices.Contains(types, t) {
			return true
		}
	}
	return false
}
