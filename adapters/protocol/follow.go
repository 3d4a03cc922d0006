package protocol

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/conveyor/conveyor/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// FollowLogs calls fn for every line of runID after sequence after, in
// stored order: the lines stored so far, then each new one as it arrives,
// with no gap and no duplicate between the two, until ctx ends or fn returns
// an error. idle, when not nil, is called whenever the stored lines are all
// delivered; returning true ends the follow (the run has ended).
func (r *LogReader) FollowLogs(ctx context.Context, runID string, after uint64,
	fn func(projections.LogLine) error, idle func() bool) error {
	stream, err := r.js.Stream(ctx, LogsStream)
	if err != nil {
		return fmt.Errorf("logs stream: %w", err)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{"logs." + runID}}
	if after > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, after+1
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(250*time.Millisecond))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			if line, ok := decodeLine(msg); ok {
				if err := fn(line); err != nil {
					return err
				}
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			return err
		}
		// Drivers store their lines before they report their result, so
		// once the run has ended, being caught up means every line is sent.
		if n == 0 && idle != nil && idle() && caughtUp(ctx, cons) {
			return nil
		}
	}
	return nil
}

func caughtUp(ctx context.Context, cons jetstream.Consumer) bool {
	info, err := cons.Info(ctx)
	return err == nil && info.NumPending == 0
}
