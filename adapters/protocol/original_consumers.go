package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// ServeOriginalConsumers answers the requests of drivers of the original
// runtime to create their consumer, arriving on OriginalConsumerSubject
// with the body of JetStream's $JS.API.CONSUMER.CREATE, until stop is
// called. A request for driver's consumer on `messages`, pulled, filtered
// on nothing but driver's work (WorkSubjects, for any resource type), is
// passed on to JetStream as checked, and its answer returned as it is; any
// other is refused with an answer shaped as JetStream's, which the driver's
// client reports as an API error. It returns once NATS knows of the
// responder.
func ServeOriginalConsumers(ctx context.Context, nc *nats.Conn, log *slog.Logger) (stop func() error, err error) {
	return serveQueue(nc, OriginalConsumerSubject("*"), "serve original drivers' consumers", func(m *nats.Msg) {
		driver := strings.Split(m.Subject, ".")[2]
		answer, err := createOriginalConsumer(ctx, nc, driver, m.Data)
		if err != nil {
			log.Warn("consumer of a driver of the original runtime refused", "driver", driver, "err", err)
			answer = consumerCreateError(err)
		}
		_ = m.Respond(answer)
	})
}

// errUnavailable says JetStream did not answer a request passed on.
var errUnavailable = errors.New("jetstream did not answer")

func createOriginalConsumer(ctx context.Context, nc *nats.Conn, driver string, body []byte) ([]byte, error) {
	checked, err := checkOriginalConsumer(driver, body)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	answer, err := nc.RequestWithContext(cctx, consumerAPI("CREATE", driver), checked)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUnavailable, err)
	}
	return answer.Data, nil
}

// consumerCreateError is a refusal as JetStream words its answers:
// 503 when JetStream did not answer, 403 otherwise.
func consumerCreateError(err error) []byte {
	code := 403
	if errors.Is(err, errUnavailable) {
		code = 503
	}
	answer, _ := json.Marshal(map[string]any{
		"type":  "io.nats.jetstream.api.v1.consumer_create_response",
		"error": map[string]any{"code": code, "err_code": 0, "description": err.Error()},
	})
	return answer
}
