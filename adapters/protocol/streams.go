package protocol

import (
	"context"
	"errors"
	"fmt"
	"time"

	wire "github.com/conveyor/conveyor/sdk/protocol"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream names and subjects of the protocol.
const (
	MessagesStream = wire.MessagesStream
	EngineStream   = wire.ResultsStream
	LogsStream     = "logs"
	ResultSubject  = wire.ResultSubject
)

// DuplicateWindow is how long the `messages` stream remembers a message id
// to store a repeated publish once. Past it, a repeat is stored again: the
// dispatcher looks for the message itself (Dispatcher.Dispatch).
const DuplicateWindow = 2 * time.Minute

// StreamsConfig sizes the protocol's streams.
type StreamsConfig struct {
	Replicas       int           // default 1
	MessagesMaxAge time.Duration // default 7 days: work waits this long for its driver
	LogsMaxAge     time.Duration // default 30 days
	LogsMaxBytes   int64         // default -1: no limit
}

func (c *StreamsConfig) setDefaults() {
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.MessagesMaxAge == 0 {
		c.MessagesMaxAge = 7 * 24 * time.Hour
	}
	if c.LogsMaxAge == 0 {
		c.LogsMaxAge = 30 * 24 * time.Hour
	}
	if c.LogsMaxBytes == 0 {
		c.LogsMaxBytes = -1
	}
}

// Validate reports settings that cannot work.
func (c StreamsConfig) Validate() error {
	var errs []error
	if c.Replicas < 0 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("protocol: Replicas must be 1 to 5, not %d", c.Replicas))
	}
	if c.MessagesMaxAge < 0 || c.LogsMaxAge < 0 {
		errs = append(errs, errors.New("protocol: max ages must not be negative"))
	}
	return errors.Join(errs...)
}

// EnsureStreams creates or updates the protocol's streams; it is idempotent.
// Work in `messages` is kept under limits retention, so work published while
// a driver is down waits for its durable consumer.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, cfg StreamsConfig) error {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	// Log lines come in masked (log_masking.go) and are stored where
	// drivers published them, logs.{run_id}.
	maskedLogs := &jetstream.SubjectTransformConfig{Source: maskedLogsPrefix + ".*", Destination: "logs.{{wildcard(1)}}"}
	streams := []jetstream.StreamConfig{
		{Name: MessagesStream, Subjects: []string{"resources.>", "drivers.>", "events.>"},
			Retention: jetstream.LimitsPolicy, MaxAge: cfg.MessagesMaxAge, Storage: jetstream.FileStorage,
			Replicas: cfg.Replicas, Duplicates: DuplicateWindow},
		{Name: EngineStream, Subjects: []string{"pipelines.>"},
			Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Replicas: cfg.Replicas},
		{Name: LogsStream, Subjects: []string{maskedLogsPrefix + ".*"}, SubjectTransform: maskedLogs,
			Retention: jetstream.LimitsPolicy, MaxAge: cfg.LogsMaxAge, MaxBytes: cfg.LogsMaxBytes,
			Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
			// The API's log streams read stored lines with direct gets,
			// without a consumer each (follow.Tail).
			AllowDirect: true},
	}
	for _, sc := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("stream %s: %w", sc.Name, err)
		}
	}
	return nil
}
