package eventstore

import (
	"context"
	"fmt"
	"runtime"

	"github.com/conveyor/conveyor/adapters/eventjson"
	"github.com/conveyor/conveyor/domain"
	"golang.org/x/sync/errgroup"
)

// replayBatch is how many messages Replay reads with one request.
const replayBatch = 1000

// replayed is one batch of the log on its way through Replay: read in
// order, decoded by any worker, handed on in order once decoded.
type replayed struct {
	msgs    []storedMsg
	events  [][]domain.Event // per message
	err     error
	decoded chan struct{}
}

// Replay calls fn for every event from sequence from up to the last event at
// the time of the call, in log order, from one goroutine. One goroutine
// reads the log in batches of replayBatch messages (without headers, see
// readRun) while one worker per CPU decodes the batches read before, so
// that reading, decoding and fn's own work overlap.
func (s *Store) Replay(ctx context.Context, from uint64, fn func(domain.Event) error) error {
	last, err := s.LastSequence(ctx)
	if err != nil {
		return err
	}
	workers := runtime.GOMAXPROCS(0)
	g, ctx := errgroup.WithContext(ctx)
	inOrder := make(chan *replayed, 2*workers)
	toDecode := make(chan *replayed, 2*workers)
	g.Go(func() error {
		defer close(inOrder)
		defer close(toDecode)
		return s.readReplay(ctx, from, last, func(b *replayed) bool {
			for _, ch := range []chan *replayed{inOrder, toDecode} {
				select {
				case ch <- b:
				case <-ctx.Done():
					return false
				}
			}
			return true
		})
	})
	for range workers {
		g.Go(func() error {
			for b := range toDecode {
				b.decode()
			}
			return nil
		})
	}
	g.Go(func() error {
		for b := range inOrder {
			select {
			case <-b.decoded:
			case <-ctx.Done():
				return ctx.Err()
			}
			if err := b.each(last, fn); err != nil {
				return err
			}
		}
		return nil
	})
	return g.Wait()
}

// readReplay reads the log from sequence from up to last in batches and
// hands each to send, until send returns false.
func (s *Store) readReplay(ctx context.Context, from, last uint64, send func(*replayed) bool) error {
	for from = max(from, 1); from <= last; {
		msgs, err := s.readRun(ctx, from, int(min(replayBatch, last-from+1)))
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			return fmt.Errorf("replay: events up to sequence %d did not arrive", last)
		}
		if !send(&replayed{msgs: msgs, decoded: make(chan struct{})}) {
			return ctx.Err()
		}
		from = msgs[len(msgs)-1].Sequence + 1
	}
	return nil
}

func (b *replayed) decode() {
	defer close(b.decoded)
	b.events = make([][]domain.Event, len(b.msgs))
	for i, m := range b.msgs {
		events, err := eventjson.DecodeAt(m.Data, m.Sequence)
		if err != nil {
			b.err = fmt.Errorf("event at sequence %d: %w", m.Sequence, err)
			return
		}
		b.events[i] = events
	}
}

// each calls fn for the batch's events up to sequence last, in order.
func (b *replayed) each(last uint64, fn func(domain.Event) error) error {
	if b.err != nil {
		return b.err
	}
	for i, m := range b.msgs {
		if m.Sequence > last {
			return nil
		}
		for _, e := range b.events[i] {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}
