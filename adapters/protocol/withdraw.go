package protocol

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/conveyor/conveyor/engine"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// sentCacheSize bounds the message positions a dispatcher remembers; when
// full it starts over (a forgotten position is looked up in the stream).
const sentCacheSize = 8192

// sent remembers where this process stored each step's work, by message id,
// so that withdrawing it needs no search. Safe for concurrent use.
type sent struct {
	mu   sync.Mutex
	seqs map[string]uint64
}

func (s *sent) put(id string, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seqs == nil || len(s.seqs) >= sentCacheSize {
		s.seqs = map[string]uint64{}
	}
	s.seqs[id] = seq
}

func (s *sent) take(id string) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq, ok := s.seqs[id]
	delete(s.seqs, id)
	return seq, ok
}

// Withdraw removes the message of a step's work from the `messages` stream
// once the step no longer waits for it, so that a driver whose consumer
// starts over (the original runtime's consumer is not durable and delivers
// everything the stream holds) is not handed finished work again. It finds
// the message by the position its publish answered, or, after a restart or
// on another server, by walking the driver's subject for the message id;
// since finished work is removed, that subject holds little more than the
// work still waiting. A message already gone is no error. Fan-out messages
// (no driver) are never withdrawn: they are for every listener at once.
func (d *Dispatcher) Withdraw(ctx context.Context, w engine.Work) error {
	if w.Driver == "" {
		return nil
	}
	stream, err := d.messages(ctx)
	if err != nil {
		return err
	}
	seq, ok := d.sent.take(w.MessageID)
	if !ok {
		if seq, ok, err = findByID(ctx, stream, WorkSubject(w), w.MessageID); err != nil || !ok {
			return err
		}
	}
	err = stream.DeleteMsg(ctx, seq)
	if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) && !errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) {
		return fmt.Errorf("withdraw %s: %w", w.MessageID, err)
	}
	return nil
}

// messages is the `messages` stream, looked up once.
func (d *Dispatcher) messages(ctx context.Context) (jetstream.Stream, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stream != nil {
		return d.stream, nil
	}
	s, err := d.js.Stream(ctx, MessagesStream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", MessagesStream, err)
	}
	d.stream = s
	return s, nil
}

// findByID walks the messages on subject, oldest first, for the one whose
// Nats-Msg-Id is id.
func findByID(ctx context.Context, stream jetstream.Stream, subject, id string) (uint64, bool, error) {
	for seq := uint64(1); ; {
		m, err := stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("look up %s on %s: %w", id, subject, err)
		}
		if m.Header.Get(nats.MsgIdHdr) == id {
			return m.Sequence, true, nil
		}
		seq = m.Sequence + 1
	}
}
