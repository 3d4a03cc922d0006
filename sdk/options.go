package sdk

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// Option configures a Manager.
type Option func(*options) error

type options struct {
	natsURL     string
	caCert      string // PEM CA certificates to trust for tls:// NATS
	natsToken   string
	conn        *nats.Conn
	concurrency int
	labels      []string
	ackWait     time.Duration
	backoff     []time.Duration
	grace       time.Duration
	logger      *slog.Logger
}

func defaultOptions() options {
	url := os.Getenv("CONVEYOR_NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	return options{natsURL: url, caCert: os.Getenv(EnvCACert), natsToken: strings.TrimSpace(os.Getenv("CONVEYOR_TOKEN")), concurrency: 1, ackWait: 30 * time.Second,
		backoff: []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}, grace: 30 * time.Second,
		logger: stderrLogger()}
}

// WithNATSURL sets the NATS server (default CONVEYOR_NATS_URL, else
// nats://127.0.0.1:4222). The driver's credentials may be in it, as
// nats://TOKEN@host:port (what `conveyor drivers credentials NAME` prints);
// without them, the token of CONVEYOR_TOKEN is sent. A tls:// server with a
// private certificate is trusted through CONVEYOR_CA_CERT.
func WithNATSURL(url string) Option {
	return func(o *options) error {
		if url == "" {
			return errors.New("sdk: empty NATS URL")
		}
		o.natsURL = url
		return nil
	}
}

// WithConn uses an open connection; the manager does not close it. With
// least-privilege credentials, open it with
// nats.CustomInboxPrefix("_INBOX." + driverName): the driver may read no
// other inbox.
func WithConn(nc *nats.Conn) Option {
	return func(o *options) error {
		if nc == nil {
			return errors.New("sdk: nil connection")
		}
		o.conn = nc
		return nil
	}
}

// WithConcurrency bounds how many messages this process reconciles at once
// (default 1).
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 10000 {
			return fmt.Errorf("sdk: concurrency must be 1 to 10000, not %d", n)
		}
		o.concurrency = n
		return nil
	}
}

// WithLabels declares the labels of this process (at most
// protocol.MaxLabels): besides the steps of its driver that name no labels,
// it takes those whose runsOn it has every label of. It takes each label
// set's work through a durable consumer of its own, one per subset of
// labels, and runs at most WithConcurrency steps at once across them. A
// process that opens its own connection (WithConn) must name it
// protocol.ConnectionName(driver, labels): with credentials required, the
// server grants the consumers of the labels that name declares.
func WithLabels(labels ...string) Option {
	return func(o *options) error {
		if err := protocol.CheckLabels(labels); err != nil {
			return fmt.Errorf("sdk: %w", err)
		}
		o.labels = labels
		return nil
	}
}

// WithAckWait sets how long the server waits for an acknowledgement before
// it redelivers (default 30s); long work extends it with in-progress acks
// every third of it. It is also how long a message waits that reached a
// process just as it stopped or died.
func WithAckWait(d time.Duration) Option {
	return func(o *options) error {
		if d < time.Second {
			return fmt.Errorf("sdk: ack wait must be at least 1s, not %v", d)
		}
		o.ackWait = d
		return nil
	}
}

// WithBackoff sets the delays before a message that failed to be handled
// (its result could not be published) is delivered again, by attempt; the
// last delay repeats (default 1s, 5s, 30s).
func WithBackoff(delays ...time.Duration) Option {
	return func(o *options) error {
		if len(delays) == 0 {
			return errors.New("sdk: backoff needs at least one delay")
		}
		o.backoff = delays
		return nil
	}
}

// WithGracePeriod sets how long Run waits for in-flight work after its
// context ended before it cancels that work (default 30s). Work that still
// runs AbandonAfter later is handed back for redelivery, and Run returns.
func WithGracePeriod(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return errors.New("sdk: negative grace period")
		}
		o.grace = d
		return nil
	}
}

// WithLogger receives the manager's own logs (default: text on stderr, at
// the level of CONVEYOR_LOG_LEVEL; see EnvLogLevel).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("sdk: nil logger")
		}
		o.logger = l
		return nil
	}
}
