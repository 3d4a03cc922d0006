package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/conveyor/conveyor/adapters/eventjson"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultDuplicateWindow is the log's duplicate window unless configured.
const DefaultDuplicateWindow = time.Minute

// Config configures the event store.
type Config struct {
	Stream        string // default "CONVEYOR_EVENTS"
	SubjectPrefix string // default "conveyor.events"
	Replicas      int    // default 1
	// DuplicateWindow is how long the stream stores a repeated append
	// once (default one minute). What repeats an append is a retry of its
	// publish (seconds) and a driver's result taken again after a crash
	// (its id derives from the result: the intake's ack wait, 10 s, and a
	// restart). Past the window a repeat is never applied twice: the guard
	// refuses it (see Append), or the run records the result as ignored.
	// The window costs memory for every append within it: nats-server
	// keeps each id until the window has passed.
	DuplicateWindow time.Duration
	// SoleWriter says that this store is the only writer of the log (a
	// server with its own embedded NATS): it then knows the last sequence
	// of the aggregates it used recently without asking the stream. Never
	// set it when other servers append to the same stream.
	SoleWriter bool
}

func (c *Config) setDefaults() {
	if c.Stream == "" {
		c.Stream = "CONVEYOR_EVENTS"
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = "conveyor.events"
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	if strings.ContainsAny(c.Stream, ". *>") {
		errs = append(errs, fmt.Errorf("eventstore: stream name %q may not hold '.', ' ', '*' or '>'", c.Stream))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("eventstore: Replicas must be 1 to 5, not %d", c.Replicas))
	}
	return errors.Join(errs...)
}

// Store is the event log on a JetStream stream, one subject per aggregate:
// {prefix}.{aggregate}.{id}. Safe for concurrent use.
type Store struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	cfg    Config
	chains *chains
	// appended, when set, is told each position appended.
	appended func(uint64)
	// index is nil unless the store is the log's sole writer.
	index *index
}

var (
	_ commands.EventStore    = (*Store)(nil)
	_ projections.MessageLog = (*Store)(nil)
)

// Headers every event message carries besides its JSON body.
const (
	HeaderType        = "Conveyor-Type"
	HeaderAggregate   = "Conveyor-Aggregate"
	HeaderAggregateID = "Conveyor-Aggregate-Id"
	HeaderCorrelation = "Conveyor-Correlation-Id"
	// HeaderPrevious holds the log sequence of the aggregate's event before
	// this one (0 for its first): Load follows these links back from the
	// last event instead of searching the log by subject.
	HeaderPrevious = "Conveyor-Previous-Sequence"
	// HeaderSnapshot marks a message whose last event holds its
	// aggregate's whole state (domain.Snapshot): Load reads nothing stored
	// before it.
	HeaderSnapshot = "Conveyor-Snapshot"
	// HeaderWatermillUUID and HeaderName are what watermill's cqrs
	// marshaler reads: the message id and the event name.
	HeaderWatermillUUID = "_watermill_message_uuid"
	HeaderName          = "name"
)

// New creates or updates the stream (idempotent) and returns the store.
func New(ctx context.Context, js jetstream.JetStream, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: cfg.Stream, Subjects: []string{cfg.SubjectPrefix + ".>"}, Retention: jetstream.LimitsPolicy,
		Storage: jetstream.FileStorage, Replicas: cfg.Replicas, Duplicates: cfg.DuplicateWindow,
		Discard: jetstream.DiscardOld, AllowDirect: true,
	})
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", cfg.Stream, err)
	}
	st := &Store{js: js, stream: stream, cfg: cfg, chains: newChains()}
	if cfg.SoleWriter {
		st.index = newIndex()
	}
	return st, nil
}

// StreamName is the name of the log's stream.
func (s *Store) StreamName() string { return s.cfg.Stream }

// Subject is the subject of an aggregate's stream; "/" in ids becomes ".".
func (s *Store) Subject(aggregate, id string) string {
	return s.cfg.SubjectPrefix + "." + aggregate + "." + strings.ReplaceAll(id, "/", ".")
}

// available fails fast when the connection to NATS is down, so that a
// request does not wait for a reconnect.
func (s *Store) available() error { return Available(s.js.Conn(), "event store") }

// Available is nil while nc is connected, else an error matching
// domain.ErrUnavailable that names what needs it: for every store on
// JetStream, so that a request fails at once instead of waiting for a
// reconnect.
func Available(nc *nats.Conn, what string) error {
	if nc != nil && !nc.IsConnected() {
		return fmt.Errorf("%s: NATS is %s: %w", what, nc.Status(), domain.ErrUnavailable)
	}
	return nil
}

// unavailable marks transport failures as domain.ErrUnavailable.
func unavailable(err error) error { return Unavailable(err, "event store") }

// Unavailable marks a failure to reach JetStream (a timeout, no
// responders, a closed or lost connection) as domain.ErrUnavailable, for
// every store on JetStream; other errors are returned as they are.
func Unavailable(err error, what string) error {
	if errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, nats.ErrDisconnected) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoHeartbeat) {
		return fmt.Errorf("%s: %w: %w", what, domain.ErrUnavailable, err)
	}
	return err
}

// Append implements commands.EventStore: the events of one command go
// into one message (see domain.EncodeEvents), so they are stored all or
// none, under the guard of the aggregate's last sequence.
func (s *Store) Append(ctx context.Context, events []domain.Event, expectedSeq uint64) (uint64, error) {
	if len(events) == 0 {
		return 0, errors.New("append: no events")
	}
	if err := s.available(); err != nil {
		return 0, err
	}
	m := events[0].EventMeta()
	body, err := domain.EncodeEvents(events)
	if err != nil {
		return 0, fmt.Errorf("encode %s: %w", m.Type, err)
	}
	types := make([]string, len(events))
	for i, e := range events {
		types[i] = e.EventMeta().Type
	}
	msg := &nats.Msg{Subject: s.Subject(m.Aggregate, m.AggregateID), Data: body, Header: nats.Header{}}
	msg.Header.Set(HeaderType, strings.Join(types, ","))
	msg.Header.Set(HeaderName, m.Type)
	msg.Header.Set(HeaderWatermillUUID, m.ID)
	msg.Header.Set(HeaderAggregate, m.Aggregate)
	msg.Header.Set(HeaderAggregateID, m.AggregateID)
	if m.CorrelationID != "" {
		msg.Header.Set(HeaderCorrelation, m.CorrelationID)
	}
	msg.Header.Set(HeaderPrevious, strconv.FormatUint(expectedSeq, 10))
	snapshot := domain.IsSnapshot(events[len(events)-1])
	if snapshot {
		msg.Header.Set(HeaderSnapshot, "true")
	}
	ack, err := s.js.PublishMsg(ctx, msg, jetstream.WithMsgID(m.ID), jetstream.WithExpectLastSequencePerSubject(expectedSeq))
	if err != nil || ack.Duplicate {
		// Whatever went wrong (a lost race, an append whose answer was
		// lost but that may have landed), what this store knows of the
		// aggregate may be behind: the next load asks the stream.
		s.forget(msg.Subject)
	}
	if err != nil {
		if isWrongLastSequence(err) {
			// A retry of an append that did land is not a conflict: the
			// subject's last message then carries this very id.
			if seq, ok := s.alreadyAppended(ctx, msg.Subject, m.ID); ok {
				return seq, fmt.Errorf("append %s %s: %w", m.Type, m.ID, domain.ErrAlreadyStored)
			}
			return 0, fmt.Errorf("%s %s changed concurrently: %w", m.Aggregate, m.AggregateID, domain.ErrConflict)
		}
		return 0, fmt.Errorf("append %s: %w", m.Type, unavailable(err))
	}
	if ack.Duplicate {
		return ack.Sequence, fmt.Errorf("append %s %s: %w", m.Type, m.ID, domain.ErrAlreadyStored)
	}
	setSequence(events, ack.Sequence)
	s.remember(msg.Subject, link{seq: ack.Sequence, prev: expectedSeq, data: body, snapshot: snapshot})
	if s.appended != nil {
		s.appended(ack.Sequence)
	}
	return ack.Sequence, nil
}

// setSequence sets the log position of events stored in one message.
func setSequence(events []domain.Event, seq uint64) {
	for _, e := range events {
		e.EventMeta().Sequence = seq
	}
}

// OnAppend sets a function told the log position of every append this
// store makes (for example to wake the projector); call it before use.
func (s *Store) OnAppend(fn func(seq uint64)) { s.appended = fn }

func (s *Store) alreadyAppended(ctx context.Context, subject, id string) (uint64, bool) {
	last, err := s.stream.GetLastMsgForSubject(ctx, subject)
	if err != nil || last.Header.Get(nats.MsgIdHdr) != id {
		return 0, false
	}
	return last.Sequence, true
}

func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == 10071 || apiErr.ErrorCode == 10164
	}
	return false
}

// decode returns the events of a consumed message, each with its sequence.
func decode(msg jetstream.Msg) ([]domain.Event, error) {
	meta, err := msg.Metadata()
	if err != nil {
		return nil, err
	}
	return eventjson.DecodeAt(msg.Data(), meta.Sequence.Stream)
}

// LastSequence is the sequence of the last event in the log (0 when empty).
func (s *Store) LastSequence(ctx context.Context) (uint64, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

// ReadMessages implements projections.MessageLog: up to n messages of the
// whole log from sequence from on, as stored.
func (s *Store) ReadMessages(ctx context.Context, from uint64, n int) ([]projections.LogMessage, error) {
	msgs, err := s.readRun(ctx, from, n)
	if err != nil {
		return nil, err
	}
	out := make([]projections.LogMessage, len(msgs))
	for i, m := range msgs {
		out[i] = projections.LogMessage{Sequence: m.Sequence, Data: m.Data}
	}
	return out, nil
}

// Wake returns a channel that receives (without piling up) whenever this
// store appends, and with others set, whenever anyone appends to the log:
// for the servers of a cluster, whose projector must notice the appends of
// the others. It stops when ctx ends.
func (s *Store) Wake(ctx context.Context, others bool) (<-chan struct{}, error) {
	wake := make(chan struct{}, 1)
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	prev := s.appended
	s.appended = func(seq uint64) {
		if prev != nil {
			prev(seq)
		}
		signal()
	}
	if !others {
		return wake, nil
	}
	sub, err := s.js.Conn().Subscribe(s.cfg.SubjectPrefix+".>", func(*nats.Msg) { signal() })
	if err != nil {
		return nil, fmt.Errorf("watch the log: %w", err)
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return wake, nil
}
