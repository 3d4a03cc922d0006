package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// filter is the subject an event query reads.
func (s *Store) filter(q projections.EventQuery) string {
	switch {
	case q.Aggregate != "" && q.ID != "":
		return s.Subject(q.Aggregate, q.ID)
	case q.Aggregate != "":
		return s.cfg.SubjectPrefix + "." + q.Aggregate + ".>"
	}
	return ""
}

func matches(q projections.EventQuery, e domain.Event) bool {
	m := e.EventMeta()
	return (q.Correlation == "" || m.CorrelationID == q.Correlation) && (q.Type == "" || m.Type == q.Type) &&
		(q.Since.IsZero() || !m.Time.Before(q.Since)) && (q.Until.IsZero() || m.Time.Before(q.Until))
}

// Events returns one page of the log in order, and the sequence to pass as
// After for the next page (0 when the log has no more).
func (s *Store) Events(ctx context.Context, q projections.EventQuery) ([]domain.Event, uint64, error) {
	if q.Limit <= 0 || q.Limit > projections.MaxLimit {
		q.Limit = projections.DefaultLimit
	}
	last, err := s.lastMatching(ctx, s.filter(q))
	if err != nil || last <= q.After {
		return nil, 0, err
	}
	var out []domain.Event
	var next uint64
	err = s.scan(ctx, s.filter(q), q.After+1, last, func(e domain.Event) error {
		if matches(q, e) {
			out = append(out, e)
		}
		if len(out) == q.Limit {
			next = e.EventMeta().Sequence
			return errPageFull
		}
		return nil
	})
	if errors.Is(err, errPageFull) {
		err = nil
	}
	if next >= last {
		next = 0
	}
	return out, next, err
}

// lastMatching is the sequence of the last event on filter (every event
// when empty); 0 when there is none.
func (s *Store) lastMatching(ctx context.Context, filter string) (uint64, error) {
	if filter == "" {
		return s.LastSequence(ctx)
	}
	last, err := s.stream.GetLastMsgForSubject(ctx, filter)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return last.Sequence, nil
}

var errPageFull = errors.New("page full")

// Follow calls fn for every event matching q after q.After, in order: those
// stored first, then each new one as it is appended, until ctx ends or fn
// returns an error. There is no gap and no duplicate between the two.
func (s *Store) Follow(ctx context.Context, q projections.EventQuery, fn func(domain.Event) error) error {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: q.After + 1}
	if f := s.filter(q); f != "" {
		cfg.FilterSubjects = []string{f}
	}
	cons, err := s.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	for {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for msg := range batch.Messages() {
			e, err := decode(msg)
			if err != nil {
				return err
			}
			if matches(q, e) {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}
