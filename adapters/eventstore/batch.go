package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/conveyor/conveyor/adapters/follow"
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

// batchRequest is JetStream's direct get of a batch (see follow.BatchRequest).
type batchRequest = follow.BatchRequest

// batchEnd is what the end of a batch reports (see follow.BatchEnd).
type batchEnd = follow.BatchEnd

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
	if err != nil || len(msgs) == 0 || end.Last == from+uint64(len(msgs))-1 {
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
	if err := s.available(); err != nil {
		return batchEnd{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	end, err := follow.ReadBatch(ctx, s.js.Conn(), s.cfg.Stream, req, func(msg *nats.Msg) error {
		var seq uint64
		if !req.NoHeaders {
			var err error
			if seq, err = strconv.ParseUint(msg.Header.Get(nats.JSSequence), 10, 64); err != nil {
				return fmt.Errorf("read the log from %d: a message without its sequence", req.Seq)
			}
		}
		return fn(storedMsg{Sequence: seq, Header: msg.Header, Data: msg.Data})
	})
	return end, unavailable(err)
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
