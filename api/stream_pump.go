package api

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// A stream's queue holds what its client has not taken yet. Both bounds
// hold at once, so that what streams cost stays within
// StreamLimits.Max × streamBufferBytes however large their messages are.
const (
	// streamBuffer is how many messages a client may fall behind.
	streamBuffer = 1024
	// streamBufferBytes is how many bytes of messages it may fall behind;
	// a single larger message is let through when nothing else waits.
	streamBufferBytes = 256 << 10
	// slowGrace is how long a full queue waits for the client to take
	// something before it is cut off: a client that reads makes room
	// within it, even while the stored messages arrive faster than the
	// network takes them.
	slowGrace = 250 * time.Millisecond
)

// stallLimit bounds one write to a client: a client that takes nothing
// for this long is dropped without a word. A client that is cut off for
// being too slow gets its close frame after the message in flight, however
// long it stalled, up to this bound.
const stallLimit = time.Minute

// errTooSlow ends the stream of a client that fell too far behind.
var errTooSlow = fmt.Errorf("client too slow: fell more than %d messages or %d KiB behind", streamBuffer, streamBufferBytes>>10)

// streamQueue is the bounded queue between a stream's producer and the
// writer to its client.
type streamQueue struct {
	out   chan []byte
	bytes atomic.Int64
	// room is signalled whenever the writer takes a message.
	room chan struct{}
}

func newStreamQueue() *streamQueue {
	return &streamQueue{out: make(chan []byte, streamBuffer), room: make(chan struct{}, 1)}
}

// put queues msg, waiting up to slowGrace for room; errTooSlow when there
// is none by then.
func (q *streamQueue) put(ctx context.Context, msg []byte) error {
	var grace <-chan time.Time
	for {
		if n := q.bytes.Load(); n == 0 || n+int64(len(msg)) <= streamBufferBytes {
			select {
			case q.out <- msg:
				q.bytes.Add(int64(len(msg)))
				return nil
			default:
			}
		}
		if grace == nil {
			t := time.NewTimer(slowGrace)
			defer t.Stop()
			grace = t.C
		}
		select {
		case <-q.room:
		case <-grace:
			return errTooSlow
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// took accounts for msg, taken by the writer.
func (q *streamQueue) took(msg []byte) {
	q.bytes.Add(-int64(len(msg)))
	select {
	case q.room <- struct{}{}:
	default:
	}
}

// pump runs produce, which sends messages on a bounded queue (see put),
// and writes them to the client with write; it returns the first error of
// either. Once the client is too slow, or ctx ends, what is still queued is
// dropped: the client's last message is the one in flight, and the caller's
// next word to it is why.
//
// With gather above 1, each write carries up to gather messages already
// queued, as one JSON array of them (the messages are JSON values).
func pump(ctx context.Context, produce func(ctx context.Context, send func([]byte) error) error,
	write func(ctx context.Context, msg []byte) error, gather int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	q := newStreamQueue()
	var behind atomic.Bool
	produced := make(chan error, 1)
	go func() {
		err := produce(ctx, func(msg []byte) error {
			err := q.put(ctx, msg)
			if errors.Is(err, errTooSlow) {
				behind.Store(true)
			}
			return err
		})
		close(q.out)
		if behind.Load() {
			// What waits will never be sent: let it go now, not once the
			// write in flight to a stalled client gives up.
			for range q.out {
			}
		}
		produced <- err
	}()
	var err error
	for msg := range q.out {
		q.took(msg)
		if behind.Load() || ctx.Err() != nil {
			break
		}
		if gather > 1 {
			msg = gathered(msg, q, gather)
		}
		// A write under way finishes even when the stream is ended (a
		// token revoked): cut off, a WebSocket would lose its close frame.
		wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), stallLimit)
		err = write(wctx, msg)
		wcancel()
		if err != nil {
			break
		}
	}
	cancel()
	for range q.out { // let the producer finish
	}
	if perr := <-produced; err == nil {
		err = perr
	}
	return err
}

// gathered is first and up to n-1 more messages already waiting on q, as
// one JSON array.
func gathered(first []byte, q *streamQueue, n int) []byte {
	buf := append(append(make([]byte, 0, len(first)*4+2), '['), first...)
	for range n - 1 {
		select {
		case msg, ok := <-q.out:
			if !ok {
				return append(buf, ']')
			}
			q.took(msg)
			buf = append(append(buf, ','), msg...)
		default:
			return append(buf, ']')
		}
	}
	return append(buf, ']')
}
