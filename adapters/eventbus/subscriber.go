package eventbus

import (
	"context"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// safeSubscriber wraps watermill-nats's JetStream subscriber so that
// shutting down cannot panic. The wrapped subscriber closes its output
// channel when its context ends or it is closed, while the NATS callback may
// still be sending on it ("send on closed channel"). Here the wrapped one is
// never cancelled or closed while callbacks run: Close first stops handing
// messages to watermill (they are Nacked, so they come again), drains the
// subscriber's own NATS connection, which waits for running callbacks, and
// only then lets the wrapped subscriber close its channel.
type safeSubscriber struct {
	inner message.Subscriber
	nc    *nats.Conn

	mu      sync.Mutex
	stop    chan struct{} // closed by Close
	cancels []context.CancelFunc
	wg      sync.WaitGroup
	closed  bool
}

func newSafeSubscriber(inner message.Subscriber, nc *nats.Conn) *safeSubscriber {
	return &safeSubscriber{inner: inner, nc: nc, stop: make(chan struct{})}
}

func (s *safeSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	innerCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	in, err := s.inner.Subscribe(innerCtx, topic)
	if err != nil {
		cancel()
		return nil, err
	}
	s.mu.Lock()
	s.cancels = append(s.cancels, cancel)
	s.mu.Unlock()
	out := make(chan *message.Message)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		for {
			select {
			case m, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- m:
				case <-s.stop:
					m.Nack()
					nackAll(in)
					return
				case <-ctx.Done():
					m.Nack()
					nackAll(in)
					return
				}
			case <-s.stop:
				nackAll(in)
				return
			case <-ctx.Done():
				nackAll(in)
				return
			}
		}
	}()
	return out, nil
}

// nackAll hands every further message back until in is closed.
func nackAll(in <-chan *message.Message) {
	go func() {
		for m := range in {
			m.Nack()
		}
	}()
}

// Close stops the subscriptions, drains the connection, then closes the
// wrapped subscriber. Safe to call twice.
func (s *safeSubscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	cancels := s.cancels
	s.mu.Unlock()

	closed := make(chan struct{})
	s.nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := s.nc.Drain(); err == nil {
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
		}
	}
	s.nc.Close()
	for _, cancel := range cancels {
		cancel()
	}
	s.wg.Wait()
	return s.inner.Close()
}
