package follow

import (
	"cmp"
	"context"
	"strings"
	"time"
)

// Follow is Run through the tail: it calls fn for every message of cfg in
// stream order, each once, the stored ones first, then each new one, until
// ctx ends (nil), fn returns an error (that error) or cfg.Idle says the
// follow is done (nil). It holds no consumer: while it is behind the ring
// it reads the stream in bounded batches (a few followers at a time), and
// once it has caught up it takes what the tail's one consumer brings.
func (t *Tail) Follow(ctx context.Context, cfg Config, fn func(Msg) error) error {
	select {
	case <-t.started:
	case <-ctx.Done():
		return nil
	}
	idleAfter := cmp.Or(max(cfg.IdleAfter, 0), time.Second)
	idleAt := time.Now().Add(idleAfter)
	cursor, delivered := cfg.After, cfg.After
	hand := func(m Msg) error {
		cursor = m.Sequence
		if !subjectMatches(cfg.Filter, m.Subject) {
			return nil
		}
		if err := fn(m); err != nil {
			return err
		}
		delivered, idleAt = m.Sequence, time.Now().Add(idleAfter)
		return nil
	}
	for ctx.Err() == nil {
		msgs, ok, last, changed := t.since(cursor, storedBatch)
		if !ok {
			end, err := t.stored(ctx, cfg.Filter, cursor, hand)
			switch {
			case ctx.Err() != nil:
				return nil
			case err != nil:
				return err
			case end.Pending == 0:
				// Every message on the filter up to last, seen before the
				// read began, has been handed over.
				cursor = max(cursor, last)
			}
			continue
		}
		for _, m := range msgs {
			if err := hand(m); err != nil {
				return err
			}
		}
		if len(msgs) > 0 {
			continue
		}
		if cfg.Idle == nil {
			select {
			case <-changed:
			case <-ctx.Done():
			}
			continue
		}
		timer := time.NewTimer(time.Until(idleAt))
		select {
		case <-changed:
		case <-ctx.Done():
		case <-timer.C:
			if cfg.Idle(ctx, delivered) {
				return nil
			}
			idleAt = time.Now().Add(idleAfter)
		}
		timer.Stop()
	}
	return nil
}

// subjectMatches reports whether subject is on filter: "" is every
// subject; "*" stands for one token and a final ">" for one or more.
func subjectMatches(filter, subject string) bool {
	if filter == "" || filter == subject {
		return true
	}
	for {
		ftok, frest, fmore := strings.Cut(filter, ".")
		stok, srest, smore := strings.Cut(subject, ".")
		switch {
		case ftok == ">" && !fmore:
			return stok != ""
		case ftok != "*" && ftok != stok:
			return false
		case !fmore || !smore:
			return fmore == smore
		}
		filter, subject = frest, srest
	}
}
