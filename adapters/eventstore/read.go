package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/conveyor/conveyor/adapters/follow"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
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

// matchesStored is matches on a stored message: its headers name the type
// and correlation; only a time window needs the event's time from its JSON.
func matchesStored(q projections.EventQuery, m storedMsg) (bool, error) {
	if (q.Correlation != "" && m.Header.Get(HeaderCorrelation) != q.Correlation) ||
		(q.Type != "" && !slices.Contains(strings.Split(m.Header.Get(HeaderType), ","), q.Type)) {
		return false, nil
	}
	if q.Since.IsZero() && q.Until.IsZero() {
		return true, nil
	}
	var head struct {
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(m.Data, &head); err != nil {
		return false, fmt.Errorf("event at sequence %d: %w", m.Sequence, err)
	}
	return (q.Since.IsZero() || !head.Time.Before(q.Since)) && (q.Until.IsZero() || head.Time.Before(q.Until)), nil
}

// Events returns one page of the log in order, each event as its stored
// JSON with its log sequence added, and the sequence to pass as After for
// the next page (0 when the log has no more). The events are read in
// batches of the page size and sent on as stored: nothing is decoded unless
// a time window asks for each event's time.
func (s *Store) Events(ctx context.Context, q projections.EventQuery) ([]json.RawMessage, uint64, error) {
	if q.Limit <= 0 || q.Limit > projections.MaxLimit {
		q.Limit = projections.DefaultLimit
	}
	var out []json.RawMessage
	for from := q.After + 1; ; {
		var last, next uint64
		more := false
		end, err := s.eventBatch(ctx, q, from, func(m storedMsg) error {
			if next != 0 {
				more = true // the page is full and the log goes on
				return nil
			}
			last = m.Sequence
			ok, err := matchesStored(q, m)
			if err != nil || !ok {
				return err
			}
			raws, err := withSequence(m)
			if err != nil {
				return err
			}
			if out = append(out, raws...); len(out) >= q.Limit {
				next = m.Sequence
			}
			return nil
		})
		switch {
		case err != nil:
			return nil, 0, err
		case next != 0 && (more || end.Pending > 0):
			return out, next, nil
		case next != 0 || last == 0 || end.Pending == 0:
			return out, 0, nil
		}
		from = last + 1
	}
}

// eventBatch reads the next batch of a page of q from sequence from on:
// without headers when the query needs none of them.
func (s *Store) eventBatch(ctx context.Context, q projections.EventQuery, from uint64, fn func(storedMsg) error) (batchEnd, error) {
	filter := s.filter(q)
	if filter != "" || q.Correlation != "" || q.Type != "" {
		return s.readBatch(ctx, batchRequest{Seq: from, Batch: q.Limit, NextFor: filter}, fn)
	}
	// One more than the page: when it arrives, the log goes on after the
	// page. A batch that ends short of it was cut at the log's end or at the
	// server's byte limit; one message more tells which.
	msgs, err := s.readRun(ctx, from, q.Limit+1)
	for _, m := range msgs {
		if err == nil {
			err = fn(m)
		}
	}
	if err != nil || len(msgs) == 0 || len(msgs) > q.Limit {
		return batchEnd{Pending: uint64(len(msgs) / (q.Limit + 1))}, err
	}
	after, err := s.readRun(ctx, msgs[len(msgs)-1].Sequence+1, 1)
	return batchEnd{Pending: uint64(len(after))}, err
}

// Follow calls fn for every event matching q after q.After, in order: those
// stored first, then each new one as it is appended, until ctx ends or fn
// returns an error. There is no gap and no duplicate between the two. The
// follow holds one consumer on the stream, gone when it returns.
func (s *Store) Follow(ctx context.Context, q projections.EventQuery, fn func(domain.Event) error) error {
	return follow.Run(ctx, s.stream, follow.Config{Filter: s.filter(q), After: q.After}, func(msg jetstream.Msg) error {
		events, err := decode(msg)
		if err != nil {
			return err
		}
		return deliver(q, events, fn)
	})
}

// deliver calls fn with each of events that matches q.
func deliver(q projections.EventQuery, events []domain.Event, fn func(domain.Event) error) error {
	for _, e := range events {
		if matches(q, e) {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}
