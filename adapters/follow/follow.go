package follow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// InactiveThreshold is how long the server keeps a follower's consumer
// once nobody pulls from it: the clean-up for a follower whose process
// ended before it could remove its consumer itself. A live follower pulls
// without pause, so it never reaches this.
const InactiveThreshold = 30 * time.Second

// Config says what a follow reads.
type Config struct {
	// Filter is the subject to read; "" reads the whole stream.
	Filter string
	// After is the stream sequence to start after (0: from the start).
	After uint64
	// Idle, when not nil, is called whenever no message has arrived for
	// IdleAfter (default one second), with the stream sequence of the last
	// message handed to fn (After if none yet); returning true ends the
	// follow.
	Idle      func(ctx context.Context, last uint64) bool
	IdleAfter time.Duration
}

// Run calls fn for every message of cfg in stream order, each once, until
// ctx ends (nil), fn returns an error (that error) or cfg.Idle says the
// follow is done (nil). Whatever ends it, the consumer it made is gone from
// the server when Run returns, or InactiveThreshold later if the server
// cannot be reached.
func Run(ctx context.Context, stream jetstream.Stream, cfg Config, fn func(jetstream.Msg) error) error {
	occ := jetstream.OrderedConsumerConfig{InactiveThreshold: InactiveThreshold}
	if cfg.Filter != "" {
		occ.FilterSubjects = []string{cfg.Filter}
	}
	if cfg.After > 0 {
		occ.DeliverPolicy, occ.OptStartSeq = jetstream.DeliverByStartSequencePolicy, cfg.After+1
	}
	cons, err := stream.OrderedConsumer(ctx, occ)
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	defer remove(ctx, stream, cons)
	defer it.Stop()
	// Stopping the iterator is what wakes a Next that waits for a message.
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()

	var wait []jetstream.NextOpt
	if cfg.Idle != nil {
		wait = append(wait, jetstream.NextMaxWait(cmp.Or(max(cfg.IdleAfter, 0), time.Second)))
	}
	last := cfg.After
	for {
		msg, err := it.Next(wait...)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, nats.ErrTimeout):
			if cfg.Idle(ctx, last) {
				return nil
			}
			continue
		case err != nil:
			return fmt.Errorf("follow: %w", err)
		}
		if err := fn(msg); err != nil {
			return err
		}
		if meta, err := msg.Metadata(); err == nil {
			last = meta.Sequence.Stream
		}
	}
}

// remove deletes the consumer the follow used last (an ordered consumer
// replaces its consumer after a gap or a lost heartbeat, and removes the
// ones it replaced itself).
func remove(ctx context.Context, stream jetstream.Stream, cons jetstream.Consumer) {
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	// A failure leaves the consumer to the server's InactiveThreshold.
	_ = stream.DeleteConsumer(ctx, info.Name)
}
