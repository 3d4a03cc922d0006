package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// connect dials NATS as the driver: credentials from the URL
// (nats://TOKEN@host:port, as `conveyor drivers credentials` prints it), else
// the token of CONVEYOR_TOKEN; replies on the driver's own inbox prefix, the
// only one its credentials may read.
func (m *Manager) connect() (*nats.Conn, error) {
	opts := append([]nats.Option{nats.Name(protocol.ConnectionName(m.d.Name(), m.opts.labels)), nats.MaxReconnects(-1),
		nats.CustomInboxPrefix(protocol.DriverInbox(m.d.Name()))}, m.connectionLogs()...)
	if m.opts.natsToken != "" && !hasUserInfo(m.opts.natsURL) {
		opts = append(opts, nats.Token(m.opts.natsToken))
	}
	if m.opts.caCert != "" {
		opts = append(opts, nats.RootCAs(m.opts.caCert))
	}
	nc, err := nats.Connect(m.opts.natsURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("sdk: connect to %s: %w", RedactURL(m.opts.natsURL), err)
	}
	m.opts.logger.Info("connected to NATS", "driver", m.d.Name(), "url", RedactURL(nc.ConnectedUrlRedacted()))
	return nc, nil
}

// connectionLogs are the handlers that log losing and regaining NATS:
// while it is gone, no work arrives and no result or log line leaves.
func (m *Manager) connectionLogs() []nats.Option {
	log := m.opts.logger.With("driver", m.d.Name())
	return []nats.Option{
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: the driver closed it itself
				log.Warn("lost the connection to NATS; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("reconnected to NATS", "url", RedactURL(nc.ConnectedUrlRedacted()))
		}),
		nats.ClosedHandler(func(*nats.Conn) { log.Info("NATS connection closed") }),
	}
}

// consumers asks the server for the driver's durable consumers, the
// driver's and one per non-empty subset of the process's labels, and binds
// to them; it returns the subject to publish results on. When no server
// answers the request, it creates the consumers itself, as the original
// runtime does.
func (m *Manager) consumers(ctx context.Context, nc *nats.Conn, js jetstream.JetStream) ([]jetstream.Consumer, string, error) {
	name := m.d.Name()
	pending := max(1000, m.opts.concurrency*4)
	body, err := json.Marshal(protocol.ConsumerRequest{Resources: m.d.Resources(), Labels: m.opts.labels,
		AckWaitMs: m.opts.ackWait.Milliseconds(), MaxAckPending: pending})
	if err != nil {
		return nil, "", err
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	answer, err := nc.RequestWithContext(rctx, protocol.ConsumerRequestSubject(name), body)
	if errors.Is(err, nats.ErrNoResponders) {
		var all []jetstream.Consumer
		for _, set := range protocol.LabelSubsets(m.opts.labels) {
			cons, err := js.CreateOrUpdateConsumer(ctx, protocol.MessagesStream, jetstream.ConsumerConfig{
				Durable: protocol.ConsumerName(name, set), FilterSubjects: protocol.WorkFilters(name, set, m.d.Resources()),
				AckPolicy: jetstream.AckExplicitPolicy, AckWait: m.opts.ackWait, MaxDeliver: -1, MaxAckPending: pending,
			})
			if err != nil {
				return nil, "", err
			}
			all = append(all, cons)
		}
		return all, protocol.ResultSubject, nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("ask the server for the consumer: %w", err)
	}
	var reply protocol.ConsumerReply
	if err := json.Unmarshal(answer.Data, &reply); err != nil {
		return nil, "", permanentError{fmt.Errorf("the server's answer is not JSON: %w", err)}
	}
	if !reply.OK {
		return nil, "", permanentError{fmt.Errorf("the server refused the consumer: %s", reply.Error)}
	}
	var all []jetstream.Consumer
	for _, set := range protocol.LabelSubsets(m.opts.labels) {
		cons, err := js.Consumer(ctx, protocol.MessagesStream, protocol.ConsumerName(name, set))
		if err != nil {
			return nil, "", err
		}
		all = append(all, cons)
	}
	return all, protocol.DriverResultSubject(name), nil
}

func hasUserInfo(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.User != nil
}
