package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/conveyor/conveyor/adapters/eventjson"
	"github.com/conveyor/conveyor/domain"
	"github.com/nats-io/nats.go/jetstream"
)

// Load implements commands.EventStore.
func (s *Store) Load(ctx context.Context, aggregate, id string) ([]domain.Event, error) {
	if err := s.available(); err != nil {
		return nil, err
	}
	subject := s.Subject(aggregate, id)
	last, err := s.lastMessage(ctx, subject)
	if err != nil || last == nil {
		return nil, err
	}
	// Walk back from the last event along the links to each previous one,
	// one direct get by sequence per event, until the chain remembered from
	// an earlier load.
	known := s.chains.get(subject)
	var knownLast uint64
	if len(known) > 0 && known[len(known)-1].seq <= last.seq {
		knownLast = known[len(known)-1].seq
	}
	newest := []link{*last}
	if last.seq == knownLast {
		newest = nil
	}
	for len(newest) > 0 && !newest[len(newest)-1].snapshot {
		prev := newest[len(newest)-1].prev
		if prev == 0 || prev == knownLast {
			break
		}
		raw, err := s.stream.GetMsg(ctx, prev)
		if err != nil {
			return nil, fmt.Errorf("read %s at %d: %w", subject, prev, unavailable(err))
		}
		if raw.Subject != subject {
			return nil, fmt.Errorf("read %s: sequence %d belongs to %s", subject, prev, raw.Subject)
		}
		newest = append(newest, linkOf(raw))
	}
	var chain []link
	if knownLast != 0 && (len(newest) == 0 || newest[len(newest)-1].prev == knownLast && !newest[len(newest)-1].snapshot) {
		chain = append(chain, known...)
	}
	chain = slices.Grow(chain, len(newest))
	for i := len(newest) - 1; i >= 0; i-- {
		chain = append(chain, newest[i])
	}
	chain = fromSnapshot(chain)
	s.chains.put(subject, chain)
	events := make([]domain.Event, 0, len(chain))
	for _, l := range chain {
		es, err := eventjson.DecodeAt(l.data, l.seq)
		if err != nil {
			return nil, fmt.Errorf("event at sequence %d: %w", l.seq, err)
		}
		events = append(events, es...)
	}
	return events, nil
}

// lastMessage is the last message of subject (nil when there is none): from
// the chain cache without a request when the index says the cache is
// current, else read from the stream.
func (s *Store) lastMessage(ctx context.Context, subject string) (*link, error) {
	if s.index != nil {
		seq, known := s.index.lookup(subject)
		if known && seq == 0 {
			return nil, nil
		}
		if chain := s.chains.get(subject); known && len(chain) > 0 && chain[len(chain)-1].seq == seq {
			l := chain[len(chain)-1]
			return &l, nil
		}
	}
	raw, err := s.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		if s.index != nil {
			s.index.moved(subject, 0)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("last event of %s: %w", subject, unavailable(err))
	}
	if raw.Sequence == 0 {
		return nil, nil
	}
	if s.index != nil {
		s.index.moved(subject, raw.Sequence)
	}
	l := linkOf(raw)
	return &l, nil
}

// remember adds a message this store appended to the index and to the
// subject's cached chain, when the chain ended right before it.
func (s *Store) remember(subject string, l link) {
	if s.index != nil {
		s.index.moved(subject, l.seq)
	}
	chain := s.chains.get(subject)
	switch {
	case l.prev == 0 || l.snapshot:
		s.chains.put(subject, []link{l})
	case len(chain) > 0 && chain[len(chain)-1].seq == l.prev:
		s.chains.put(subject, append(chain[:len(chain):len(chain)], l))
	}
}

// forget makes the next load of subject read its last message from the
// stream.
func (s *Store) forget(subject string) {
	if s.index != nil {
		s.index.unknown(subject)
	}
	s.chains.drop(subject)
}

// ForgetEvents drops the stored events of every aggregate the store
// remembers (not their last sequences): each is read from the stream
// again when next loaded. For a quiet moment, when what a burst left in
// memory is worth more than the reads it saves.
func (s *Store) ForgetEvents() { s.chains.dropAll() }

// Head implements commands.HeadReader: the log position of the last event
// of an aggregate, 0 when it has none; without a request when this store is
// the sole writer and so knows it.
func (s *Store) Head(ctx context.Context, aggregate, id string) (uint64, error) {
	if err := s.available(); err != nil {
		return 0, err
	}
	subject := s.Subject(aggregate, id)
	if s.index != nil {
		if seq, known := s.index.lookup(subject); known {
			return seq, nil
		}
	}
	last, err := s.lastMessage(ctx, subject)
	if err != nil || last == nil {
		return 0, err
	}
	return last.seq, nil
}
