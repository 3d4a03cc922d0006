package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/conveyor/conveyor/adapters/follow"
	"github.com/conveyor/conveyor/projections"
	wire "github.com/conveyor/conveyor/sdk/protocol"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// LogReader reads stored log lines from the `logs` stream.
type LogReader struct {
	js jetstream.JetStream
	// tail, when set, is the shared tail FollowLogs reads through.
	tail *follow.Tail
}

// Tailed returns the reader whose FollowLogs goes through tail, a tail of
// the `logs` stream shared by every follower (see follow.Tail).
func (r *LogReader) Tailed(tail *follow.Tail) *LogReader { return &LogReader{js: r.js, tail: tail} }

// NewLogReader returns a reader using js.
func NewLogReader(js jetstream.JetStream) *LogReader { return &LogReader{js: js} }

// RunLogs returns the lines of q.RunID in stored order, numbered (see
// projections.LogQuery).
func (r *LogReader) RunLogs(ctx context.Context, q projections.LogQuery) ([]projections.LogLine, error) {
	if q.Limit <= 0 || q.Limit > projections.MaxLimit {
		q.Limit = projections.MaxLimit
	}
	n := q.Line
	if q.After > 0 && n == 0 {
		var err error
		if n, err = r.LineAt(ctx, q); err != nil {
			return nil, err
		}
	}
	var out []projections.LogLine
	err := r.scan(ctx, q.RunID, q.After, func(line projections.LogLine) bool {
		if q.Numbers(line) {
			n++
			line.Line = n
		}
		if q.Selects(line) {
			out = append(out, line)
		}
		return len(out) < q.Limit
	})
	return out, err
}

// LineAt is the number of the line at sequence q.After among q's numbered
// lines: how many of them are stored at or before it. It reads the run's
// lines up to there: a cost that follows the run's log, never the history.
func (r *LogReader) LineAt(ctx context.Context, q projections.LogQuery) (int, error) {
	n := 0
	if q.After == 0 {
		return 0, nil
	}
	err := r.scan(ctx, q.RunID, 0, func(line projections.LogLine) bool {
		if line.Sequence > q.After {
			return false
		}
		if q.Numbers(line) {
			n++
		}
		return true
	})
	return n, err
}

// scan calls fn for the stored lines of runID after sequence after, in
// order, while fn returns true and lines remain.
func (r *LogReader) scan(ctx context.Context, runID string, after uint64, fn func(projections.LogLine) bool) error {
	stream, err := r.js.Stream(ctx, LogsStream)
	if err != nil {
		return fmt.Errorf("logs stream: %w", err)
	}
	subject := wire.LogSubject(runID)
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return err
	}
	if info.State.Subjects[subject] == 0 {
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}}
	if after > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, after+1
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	for {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(200*time.Millisecond))
		if err != nil {
			return err
		}
		n, more := 0, true
		for msg := range batch.Messages() {
			n++
			if line, ok := decodeLine(msg); ok && more {
				more = fn(line)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return err
		}
		if n == 0 || !more {
			return nil
		}
	}
}

func decodeLine(msg jetstream.Msg) (projections.LogLine, bool) {
	meta, err := msg.Metadata()
	if err != nil {
		return projections.LogLine{}, false
	}
	return decodeStored(msg.Data(), meta.Sequence.Stream, meta.Timestamp)
}

// decodeStored is the line stored at seq at the time stored.
func decodeStored(data []byte, seq uint64, stored time.Time) (projections.LogLine, bool) {
	var raw wire.LogLine
	if err := json.Unmarshal(data, &raw); err != nil {
		return projections.LogLine{}, false
	}
	ts := string(raw.Timestamp)
	at, err := time.Parse(time.RFC3339Nano, raw.Time)
	if err != nil {
		at = stored
	}
	return projections.LogLine{Sequence: seq, RunID: raw.RunID, Driver: raw.Driver, Pipeline: raw.Pipeline,
		Step: raw.Step, Attempt: raw.Attempt, Timestamp: ts, Time: at, Message: raw.Message, Labels: raw.Labels}, true
}
