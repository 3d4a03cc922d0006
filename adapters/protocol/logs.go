package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/conveyor/conveyor/adapters/follow"
	"github.com/conveyor/conveyor/projections"
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

// RunLogs returns the lines of q.RunID in stored order.
func (r *LogReader) RunLogs(ctx context.Context, q projections.LogQuery) ([]projections.LogLine, error) {
	if q.Limit <= 0 || q.Limit > projections.MaxLimit {
		q.Limit = projections.MaxLimit
	}
	stream, err := r.js.Stream(ctx, LogsStream)
	if err != nil {
		return nil, fmt.Errorf("logs stream: %w", err)
	}
	subject := "logs." + q.RunID
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return nil, err
	}
	if info.State.Subjects[subject] == 0 {
		return nil, nil
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}}
	if q.After > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, q.After+1
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var out []projections.LogLine
	for len(out) < q.Limit {
		batch, err := cons.Fetch(min(q.Limit-len(out), 256), jetstream.FetchMaxWait(200*time.Millisecond))
		if err != nil {
			return nil, err
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			line, ok := decodeLine(msg)
			if ok && (q.Driver == "" || line.Driver == q.Driver) && (q.Step == "" || line.Step == q.Step) {
				out = append(out, line)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, err
		}
		if n == 0 {
			break
		}
	}
	return out, nil
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
	var raw struct {
		RunID     string            `json:"runid"`
		Driver    string            `json:"driver"`
		Pipeline  string            `json:"pipeline"`
		Step      string            `json:"step"`
		Attempt   int               `json:"attempt"`
		Timestamp json.RawMessage   `json:"timestamp"`
		Time      string            `json:"time"`
		Message   string            `json:"message"`
		Labels    map[string]string `json:"labels"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return projections.LogLine{}, false
	}
	ts, _ := strconv.Unquote(string(raw.Timestamp))
	if ts == "" {
		ts = string(raw.Timestamp) // a number, from other runtimes
	}
	at, err := time.Parse(time.RFC3339Nano, raw.Time)
	if err != nil {
		at = stored
	}
	return projections.LogLine{Sequence: seq, RunID: raw.RunID, Driver: raw.Driver, Pipeline: raw.Pipeline,
		Step: raw.Step, Attempt: raw.Attempt, Timestamp: ts, Time: at, Message: raw.Message, Labels: raw.Labels}, true
}
