package follow

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
)

// BatchRequest is JetStream's direct get of up to Batch messages from
// sequence Seq on, those on subject NextFor only when it is set (wildcards
// allowed). NoHeaders leaves out every message's headers, its sequence
// among them; MaxBytes, when set, ends the batch once that much was sent.
// The stream must allow direct gets.
type BatchRequest struct {
	Seq       uint64 `json:"seq"`
	Batch     int    `json:"batch"`
	NextFor   string `json:"next_by_subj,omitempty"`
	NoHeaders bool   `json:"no_hdr,omitempty"`
	MaxBytes  int    `json:"max_bytes,omitempty"`
}

// BatchEnd is what the end of a batch reports: how many messages on the
// filter follow the last one sent (Pending), and that one's sequence
// (Last). A batch that found nothing at or after its sequence ends with
// both zero.
type BatchEnd struct{ Pending, Last uint64 }

// ReadBatch sends req to stream over nc and calls fn with each message of
// the answer, in log order, without a consumer: the stream's replicas
// answer from their store. ctx bounds the wait for the answer; callers give
// it a deadline. A failure to send matches nats' own errors.
func ReadBatch(ctx context.Context, nc *nats.Conn, stream string, req BatchRequest, fn func(*nats.Msg) error) (BatchEnd, error) {
	inbox := nc.NewRespInbox()
	// The answer is at most Batch messages and the status that ends them: a
	// channel of that size never drops one, and costs far less than a
	// synchronous subscription, whose queue is allocated at its full
	// default length (half a megabyte) for every batch.
	answers := make(chan *nats.Msg, max(req.Batch, 0)+2)
	sub, err := nc.ChanSubscribe(inbox, answers)
	if err != nil {
		return BatchEnd{}, err
	}
	defer sub.Unsubscribe() //nolint:errcheck // the inbox is never used again
	body, err := json.Marshal(req)
	if err != nil {
		return BatchEnd{}, err
	}
	if err := nc.PublishRequest("$JS.API.DIRECT.GET."+stream, inbox, body); err != nil {
		return BatchEnd{}, err
	}
	for {
		var msg *nats.Msg
		select {
		case msg = <-answers:
		case <-ctx.Done():
			return BatchEnd{}, fmt.Errorf("read %s from %d: %w", stream, req.Seq, ctx.Err())
		}
		switch msg.Header.Get("Status") {
		case "":
		case "404": // nothing at or after Seq
			return BatchEnd{}, nil
		case "204": // end of the batch
			pending, _ := strconv.ParseUint(msg.Header.Get("Nats-Num-Pending"), 10, 64)
			last, _ := strconv.ParseUint(msg.Header.Get(nats.JSLastSequence), 10, 64)
			return BatchEnd{Pending: pending, Last: last}, nil
		default:
			return BatchEnd{}, fmt.Errorf("read %s from %d: %s %s", stream, req.Seq, msg.Header.Get("Status"), msg.Header.Get("Description"))
		}
		if err := fn(msg); err != nil {
			return BatchEnd{}, err
		}
	}
}
