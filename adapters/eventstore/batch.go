package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/nats-io/nats.go"
)

// batchTimeout bounds one batch read: the server answers at once or not
// at all.
const batchTimeout = 10 * time.Second

// storedMsg is one event message as the stream holds it.
type storedMsg struct {
	Sequence uint64
	Header   nats.Header
	Data     []byte
}

// batchRequest is JetStream's direct get of up to Batch messages from
// sequence Seq on, those on subject NextFor only when it is set.
// NoHeaders leaves out every message's headers, its sequence among them.
type batchRequest struct {
	Seq       uint64 `json:"seq"`
	Batch     int    `json:"batch"`
	NextFor   string `json:"next_by_subj,omitempty"`
	NoHeaders bool   `json:"no_hdr,omitempty"`
}

// batchEnd is what the end of a batch reports: how many messages on the
// filter follow the last one sent, and that one's sequence.
type batchEnd struct{ pending, last uint64 }

// readRun reads up to n events of the whole log from sequence from on. The
// log is append-only, so its sequences run without gaps: the messages are
// read without their headers, which is much cheaper for both sides, and
// numbered from the first; the end of the batch, which names the sequence
// of the last one, confirms there was no gap. Should the stream ever have
// one (a message removed by an operator), the batch is read again with
// headers.
func (s *Store) readRun(ctx context.Context, from uint64, n int) ([]storedMsg, error) {
	from = max(from, 1)
	var msgs []storedMsg
	end, err := s.readBatch(ctx, batchRequest{Seq: from, Batch: n, NoHeaders: true}, func(m storedMsg) error {
		m.Sequence = from + uint64(len(msgs))
		msgs = append(msgs, m)
		return nil
	})
	if err != nil || len(msgs) == 0 || end.last == from+uint64(len(msgs))-1 {
		return msgs, err
	}
	msgs = msgs[:0]
	_, err = s.readBatch(ctx, batchRequest{Seq: from, Batch: n}, func(m storedMsg) error {
		msgs = append(msgs, m)
		return nil
	})
	return msgs, err
}

// readBatch reads up to req.Batch messages on req.NextFor (every subject
// when empty) from sequence req.Seq on, in log order, with one direct get
// request: the stream's replicas answer from their store without a
// consumer. Without headers, a message's Sequence is 0.
func (s *Store) readBatch(ctx context.Context, req batchRequest, fn func(storedMsg) error) (batchEnd, error) {
	from := req.Seq
	if err := s.available(); err != nil {
		return batchEnd{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	nc := s.js.Conn()
	inbox := nc.NewRespInbox()
	// The answer is at most Batch messages and the status that ends them: a
	// channel of that size never drops one, and costs far less than a
	// synchronous subscription, whose queue is allocated at its full
	// default length (half a megabyte) for every batch.
	answers := make(chan *nats.Msg, max(req.Batch, 0)+2)
	sub, err := nc.ChanSubscribe(inbox, answers)
	if err != nil {
		return batchEnd{}, unavailable(err)
	}
	defer sub.Unsubscribe() //nolint:errcheck // the inbox is never used again
	body, err := json.Marshal(req)
	if err != nil {
		return batchEnd{}, err
	}
	if err := nc.PublishRequest("$JS.API.DIRECT.GET."+s.cfg.Stream, inbox, body); err != nil {
		return batchEnd{}, unavailable(err)
	}
	for {
		var msg *nats.Msg
		select {
		case msg = <-answers:
		case <-ctx.Done():
			return batchEnd{}, fmt.Errorf("read the log from %d: %w", from, unavailable(ctx.Err()))
		}
		switch msg.Header.Get("Status") {
		case "":
		case "404": // nothing at or after from
			return batchEnd{}, nil
		case "204": // end of the batch
			pending, _ := strconv.ParseUint(msg.Header.Get("Nats-Num-Pending"), 10, 64)
			last, _ := strconv.ParseUint(msg.Header.Get(nats.JSLastSequence), 10, 64)
			return batchEnd{pending: pending, last: last}, nil
		default:
			return batchEnd{}, fmt.Errorf("read the log from %d: %s %s", from, msg.Header.Get("Status"), msg.Header.Get("Description"))
		}
		var seq uint64
		if !req.NoHeaders {
			if seq, err = strconv.ParseUint(msg.Header.Get(nats.JSSequence), 10, 64); err != nil {
				return batchEnd{}, fmt.Errorf("read the log from %d: a message without its sequence", from)
			}
		}
		if err := fn(storedMsg{Sequence: seq, Header: msg.Header, Data: msg.Data}); err != nil {
			return batchEnd{}, err
		}
	}
}

// withSequence is the stored JSON of each event of a message with its log
// sequence added, as the read side shows it. The stored JSON never holds the
// sequence: it is only known once the event is stored. The events of one
// command share their message's sequence.
func withSequence(m storedMsg) ([]json.RawMessage, error) {
	raws, err := domain.SplitEvents(m.Data)
	if err != nil {
		return nil, fmt.Errorf("event at sequence %d: %w", m.Sequence, err)
	}
	out := make([]json.RawMessage, len(raws))
	for i, d := range raws {
		if len(d) < 2 || d[0] != '{' {
			return nil, fmt.Errorf("event at sequence %d is not a JSON object", m.Sequence)
		}
		raw := make([]byte, 0, len(d)+32)
		raw = append(raw, `{"sequence":`...)
		raw = strconv.AppendUint(raw, m.Sequence, 10)
		if d[1] != '}' {
			raw = append(raw, ',')
		}
		out[i] = append(raw, d[1:]...)
	}
	return out, nil
}
