package parking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config configures the parking place.
type Config struct {
	Stream        string // default "CONVEYOR_PARKED"
	SubjectPrefix string // default "conveyor.parked"
	Replicas      int    // default 1; 3 in a cluster
	// DuplicateWindow is how long the stream remembers what it stored: the
	// same log event parked again by the same consumer within it (a
	// redelivery after a crash between parking and acknowledging) is kept
	// once. Default 2 minutes.
	DuplicateWindow time.Duration
}

func (c *Config) setDefaults() {
	if c.Stream == "" {
		c.Stream = "CONVEYOR_PARKED"
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = "conveyor.parked"
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = 2 * time.Minute
	}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	if strings.ContainsAny(c.Stream, ". *>") {
		errs = append(errs, fmt.Errorf("parking: stream name %q may not hold '.', ' ', '*' or '>'", c.Stream))
	}
	if strings.ContainsAny(c.SubjectPrefix, " *>") || strings.HasPrefix(c.SubjectPrefix, ".") || strings.HasSuffix(c.SubjectPrefix, ".") {
		errs = append(errs, fmt.Errorf("parking: subject prefix %q may not hold ' ', '*' or '>', nor start or end with '.'", c.SubjectPrefix))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("parking: Replicas must be 1 to 5, not %d", c.Replicas))
	}
	if c.DuplicateWindow < 0 {
		errs = append(errs, errors.New("parking: DuplicateWindow must not be negative"))
	}
	return errors.Join(errs...)
}

// Store is the parking place on a JetStream stream. Safe for concurrent use.
type Store struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	cfg    Config
}

var _ projections.Parking = (*Store)(nil)

// New creates or updates the stream (idempotent) and returns the store. The
// stream keeps every entry until it is removed: limits retention without
// limits, on file storage.
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
	return &Store{js: js, stream: stream, cfg: cfg}, nil
}

// subject is where consumer's entries are stored. A name that is not one
// subject token is made one; the entry keeps the name as given.
func (s *Store) subject(consumer string) string {
	token := strings.Map(func(r rune) rune {
		if r == '.' || r == '*' || r == '>' || r <= ' ' {
			return '_'
		}
		return r
	}, consumer)
	if token == "" {
		token = "_"
	}
	return s.cfg.SubjectPrefix + "." + token
}

// headroom is what an entry leaves of the server's largest message for the
// headers of its message.
const headroom = 1 << 10

// Park implements projections.Parking: it stores p as a new entry, whose ID
// is the stream sequence. ParkedAt is now when it is zero; p.ID is ignored.
// A body that is not JSON is kept as a JSON string. A body that would make
// the entry larger than the server takes is left out and the Error says so:
// the event itself is still in the log at p.Sequence. The same log event
// parked again by the same consumer within the duplicate window is stored
// once.
func (s *Store) Park(ctx context.Context, p projections.ParkedEvent) error {
	msgID := ""
	if p.Sequence > 0 {
		msgID = p.Consumer + "/" + strconv.FormatUint(p.Sequence, 10)
	}
	return s.park(ctx, p, msgID)
}

// park stores p, deduplicated by msgID when it is not empty.
func (s *Store) park(ctx context.Context, p projections.ParkedEvent, msgID string) error {
	if err := s.available(); err != nil {
		return err
	}
	p.ID = 0
	if p.ParkedAt.IsZero() {
		p.ParkedAt = time.Now().UTC()
	}
	if len(p.Body) > 0 && !json.Valid(p.Body) {
		text, _ := json.Marshal(string(p.Body)) // a string always encodes
		p.Body = text
	}
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("parking: encode: %w", err)
	}
	if limit := s.js.Conn().MaxPayload() - headroom; limit > 0 && int64(len(data)) > limit {
		p.Error += fmt.Sprintf(" (its body of %d bytes is not kept here: too large)", len(p.Body))
		p.Body = nil
		if data, err = json.Marshal(p); err != nil {
			return fmt.Errorf("parking: encode: %w", err)
		}
	}
	opts := []jetstream.PublishOpt{}
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	if _, err := s.js.PublishMsg(ctx, &nats.Msg{Subject: s.subject(p.Consumer), Data: data}, opts...); err != nil {
		return fmt.Errorf("park %s event at %d: %w", p.Consumer, p.Sequence, unavailable(err))
	}
	return nil
}

// Count is how many entries are parked.
func (s *Store) Count(ctx context.Context) (uint64, error) {
	if err := s.available(); err != nil {
		return 0, err
	}
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("count parked events: %w", unavailable(err))
	}
	return info.State.Msgs, nil
}

// Remove deletes the entry id, once an operator has dealt with its cause.
// An id that is not parked (never was, or already removed) is an error
// matching domain.ErrNotFound.
func (s *Store) Remove(ctx context.Context, id uint64) error {
	if err := s.available(); err != nil {
		return err
	}
	notFound := fmt.Errorf("parked event %d: %w", id, domain.ErrNotFound)
	if id == 0 {
		return notFound
	}
	err := s.stream.DeleteMsg(ctx, id)
	if errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) || errors.Is(err, jetstream.ErrMsgNotFound) {
		// The server refuses to delete what it does not hold; make sure
		// that is why.
		if _, getErr := s.stream.GetMsg(ctx, id); errors.Is(getErr, jetstream.ErrMsgNotFound) {
			return notFound
		}
	}
	if err != nil {
		return fmt.Errorf("remove parked event %d: %w", id, unavailable(err))
	}
	return nil
}

// available and unavailable are the event store's, for this store.
func (s *Store) available() error { return eventstore.Available(s.js.Conn(), "parking") }

func unavailable(err error) error { return eventstore.Unavailable(err, "parking") }
