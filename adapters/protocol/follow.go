package protocol

import (
	"context"
	"errors"
	"fmt"

	"github.com/conveyor/conveyor/adapters/follow"
	"github.com/conveyor/conveyor/projections"
	wire "github.com/conveyor/conveyor/sdk/protocol"
	"github.com/nats-io/nats.go/jetstream"
)

// FollowLogs calls fn for every line of runID after sequence after, in
// stored order: the lines stored so far, then each new one as it arrives,
// with no gap and no duplicate between the two, until ctx ends or fn returns
// an error. idle, when not nil, is called whenever the stored lines are all
// delivered; returning true ends the follow (the run has ended) once every
// line of the run is delivered. The follow holds one consumer on the `logs`
// stream, gone when it returns; through a shared tail (Tailed), none.
func (r *LogReader) FollowLogs(ctx context.Context, runID string, after uint64,
	fn func(projections.LogLine) error, idle func() bool) error {
	stream, err := r.js.Stream(ctx, LogsStream)
	if err != nil {
		return fmt.Errorf("logs stream: %w", err)
	}
	subject := wire.LogSubject(runID)
	cfg := follow.Config{Filter: subject, After: after}
	if idle != nil {
		// Asked after a second without a line. Drivers store their lines
		// before they report their result, so once the run has ended, its
		// last stored line is its last line.
		cfg.Idle = func(ctx context.Context, last uint64) bool {
			return idle() && lastLine(ctx, stream, subject) <= last
		}
	}
	if r.tail != nil {
		return r.tail.Follow(ctx, cfg, func(m follow.Msg) error {
			if line, ok := decodeStored(m.Data, m.Sequence, m.Time); ok {
				return fn(line)
			}
			return nil
		})
	}
	return follow.Run(ctx, stream, cfg, func(msg jetstream.Msg) error {
		if line, ok := decodeLine(msg); ok {
			return fn(line)
		}
		return nil
	})
}

// lastLine is the sequence of the last line stored on subject: 0 if none,
// and the largest sequence there is if it cannot tell (the follow goes on).
func lastLine(ctx context.Context, stream jetstream.Stream, subject string) uint64 {
	msg, err := stream.GetLastMsgForSubject(ctx, subject)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return 0
	case err != nil:
		return ^uint64(0)
	}
	return msg.Sequence
}
