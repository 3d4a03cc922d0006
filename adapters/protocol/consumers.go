package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/conveyor/conveyor/domain"
	wire "github.com/conveyor/conveyor/sdk/protocol"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ConsumerRequest is what a driver sends on ConsumerRequestSubject: the
// resource types it listens to and the settings of its consumer;
// ConsumerReply answers it.
type (
	ConsumerRequest = wire.ConsumerRequest
	ConsumerReply   = wire.ConsumerReply
)

// consumersQueue is the queue group of the responders: one replica answers
// each request.
const consumersQueue = "conveyor-consumers"

// WorkSubjects are what driver's consumer filters: resources.{r} (fan-out)
// and drivers.{driver}.resources.{r} (pipeline steps) for each type r.
func WorkSubjects(driver string, resources []string) []string {
	return wire.WorkFilters(driver, "", resources)
}

// ServeConsumers answers drivers' requests for their consumer until stop is
// called: it creates or updates the durable consumer named after the driver
// on `messages`, filtered on that driver's WorkSubjects, and for a request
// with labels one consumer per non-empty subset of them (wire.ConsumerName,
// filtered on that set's step subjects), so that a driver
// never needs the right to create consumers (and with it, to read others'
// work). The driver's name is the subject's, which only that driver may
// publish on when NATS requires credentials. It returns once NATS knows of
// the responder: a driver that asks after that is answered.
func ServeConsumers(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, log *slog.Logger) (stop func() error, err error) {
	return serveQueue(nc, consumerRequests, "serve driver consumers", func(m *nats.Msg) {
		reply := ConsumerReply{OK: true}
		if err := makeConsumer(ctx, js, m); err != nil {
			log.Warn("driver consumer refused", "subject", m.Subject, "err", err)
			reply = ConsumerReply{Error: err.Error()}
		}
		data, _ := json.Marshal(reply)
		_ = m.Respond(data)
	})
}

// serveQueue answers the requests on subject with handle, one replica
// (queue group consumersQueue) each, and returns once NATS knows of the
// responder; stop drains it. what names the service in errors.
func serveQueue(nc *nats.Conn, subject, what string, handle nats.MsgHandler) (stop func() error, err error) {
	sub, err := nc.QueueSubscribe(subject, consumersQueue, handle)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := nc.Flush(); err != nil {
		return nil, errors.Join(fmt.Errorf("%s: %w", what, err), sub.Unsubscribe())
	}
	return sub.Drain, nil
}

func makeConsumer(ctx context.Context, js jetstream.JetStream, m *nats.Msg) error {
	driver := strings.Split(m.Subject, ".")[2]
	if !domain.ValidName(driver) {
		return fmt.Errorf("driver name %q is not a valid name", driver)
	}
	var req ConsumerRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		return fmt.Errorf("request is not JSON: %w", err)
	}
	if len(req.Resources) == 0 {
		return fmt.Errorf("driver %s listens to no resource type", driver)
	}
	for _, r := range req.Resources {
		if !domain.ValidName(r) {
			return fmt.Errorf("resource type %q is not a valid name", r)
		}
	}
	if err := wire.CheckLabels(req.Labels); err != nil {
		return err
	}
	ackWait := time.Duration(req.AckWaitMs) * time.Millisecond
	if ackWait == 0 {
		ackWait = 30 * time.Second
	}
	if ackWait < time.Second || ackWait > time.Hour {
		return fmt.Errorf("ack wait must be 1s to 1h, not %v", ackWait)
	}
	pending := req.MaxAckPending
	if pending == 0 {
		pending = 1000
	}
	if pending < 1 || pending > 100000 {
		return fmt.Errorf("max ack pending must be 1 to 100000, not %d", pending)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, set := range wire.LabelSubsets(req.Labels) {
		_, err := js.CreateOrUpdateConsumer(cctx, MessagesStream, jetstream.ConsumerConfig{
			Durable: wire.ConsumerName(driver, set), FilterSubjects: wire.WorkFilters(driver, set, req.Resources),
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxDeliver: -1, MaxAckPending: pending,
		})
		if err != nil {
			return err
		}
	}
	return nil
}
