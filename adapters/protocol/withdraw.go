package protocol

import (
	"context"
	"errors"
	"fmt"

	"github.com/conveyor/conveyor/engine"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// sentCacheSize bounds the message positions a dispatcher remembers: past
// it, the one stored longest ago is forgotten (and looked up in the stream
// if it is ever withdrawn). It is sized for a burst of fan-outs, whose work
// waits by the tens of thousands: a forgotten position costs a walk of the
// driver's subject.
const sentCacheSize = 65536

// sent remembers where this process stored each step's work, by message id,
// so that withdrawing it needs no search. Safe for concurrent use.
type sent struct{ seqs *lru.Cache[string, uint64] }

func newSent() sent {
	seqs, err := lru.New[string, uint64](sentCacheSize)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return sent{seqs: seqs}
}

func (s sent) put(id string, seq uint64) { s.seqs.Add(id, seq) }

func (s sent) has(id string) bool { return s.seqs.Contains(id) }

func (s sent) take(id string) (uint64, bool) {
	seq, ok := s.seqs.Peek(id)
	if ok {
		s.seqs.Remove(id)
	}
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
