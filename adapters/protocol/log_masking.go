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

// Drivers publish their lines with JetStream on logs.{run_id} (the
// original runtime's wire, unchanged), but the `logs` stream does not take
// that subject: the server takes each line first, masks the run's secrets
// in it (adapters/logmask) and publishes it on maskedLogsPrefix.{run_id},
// which the stream takes and stores as logs.{run_id}, where every reader
// finds it. The publisher's reply subject goes with it, so the stream's
// acknowledgement (or refusal) reaches the publisher itself: to a driver
// nothing changed, and a line is in clear only in memory, never on disk.
// POST /logs publishes the same way, through the same masking.
//
// The cost: one more hop in the server's process per line, and a line
// published while no server runs (cluster mode with an external NATS) is
// refused instead of stored; the SDK counts it as dropped.
const maskedLogsPrefix = "conveyor.logs.masked"

// logMaskingQueue is the queue group of the servers that mask lines: each
// line is masked and stored by one of them. Lines of one writer are kept
// in order by one server; across servers of a cluster they may interleave
// by what is in flight (the `time` field orders them).
const logMaskingQueue = "conveyor-logs"

// LineMasker masks one field of a log line of run runID, written by the
// writer stream; it fails when it cannot tell what to mask.
type LineMasker interface {
	Line(ctx context.Context, runID, stream, line string) (string, error)
}

// MaskLogs subscribes to every line published on logs.{run_id}, to mask
// and store it, and returns once the subscription is in place; draining the
// subscription stops it. A line whose run's secrets cannot be loaded is
// refused, never stored in clear: its publisher gets an error as its
// acknowledgement.
func MaskLogs(nc *nats.Conn, masker LineMasker, log *slog.Logger) (*nats.Subscription, error) {
	sub, err := nc.QueueSubscribe("logs.*", logMaskingQueue, func(m *nats.Msg) {
		runID := strings.TrimPrefix(m.Subject, "logs.")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		body, err := maskLine(ctx, masker, runID, m.Data)
		if err != nil {
			log.Warn("log line refused: its run's secrets cannot be loaded", "run", runID, "err", err)
			refusal, _ := json.Marshal(map[string]any{"error": map[string]any{"code": 503, "description": "log line not stored: " + err.Error()}})
			if m.Reply != "" {
				_ = m.Respond(refusal)
			}
			return
		}
		out := &nats.Msg{Subject: maskedLogsPrefix + "." + runID, Reply: m.Reply, Header: m.Header, Data: body}
		if err := nc.PublishMsg(out); err != nil {
			log.Warn("log line not stored", "run", runID, "err", err)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("mask logs: %w", err)
	}
	// Without a limit on their count, a burst of lines waits in memory
	// (up to 256 MiB) rather than being dropped as a slow consumer's.
	_ = sub.SetPendingLimits(-1, 256<<20)
	if err := nc.Flush(); err != nil {
		return nil, errors.Join(fmt.Errorf("mask logs: %w", err), sub.Unsubscribe())
	}
	return sub, nil
}

// maskLine masks every string of a line's JSON object (and its labels'
// values); the message carries its end to the writer's next line. A body
// that is not a JSON object is masked as a whole.
func maskLine(ctx context.Context, masker LineMasker, runID string, data []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		masked, err := masker.Line(ctx, runID, "raw", string(data))
		return []byte(masked), err
	}
	writer := string(fields["driver"]) + "|" + string(fields["step"]) + "|" + string(fields["attempt"])
	for name, raw := range fields {
		var s string
		var labels map[string]string
		switch {
		case json.Unmarshal(raw, &s) == nil:
			masked, err := masker.Line(ctx, runID, writer+"|"+name, s)
			if err != nil {
				return nil, err
			}
			fields[name], _ = json.Marshal(masked)
		case name == "labels" && json.Unmarshal(raw, &labels) == nil:
			for k, v := range labels {
				masked, err := masker.Line(ctx, runID, writer+"|labels", v)
				if err != nil {
					return nil, err
				}
				labels[k] = masked
			}
			fields[name], _ = json.Marshal(labels)
		}
	}
	return json.Marshal(fields)
}
