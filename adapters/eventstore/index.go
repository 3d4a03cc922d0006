package eventstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// index is the last log sequence of every aggregate's subject, for a store
// that is the log's only writer (Config.SoleWriter): filled from the stream
// at start, then moved by every append of this store. With it, loading an
// aggregate whose events the chain cache holds costs no request, and an
// aggregate that does not exist is known absent without asking.
type index struct {
	mu   sync.RWMutex
	last map[string]uint64 // 0: the subject exists, its last sequence is not known yet
}

// indexTimeout bounds listing the log's subjects: a log of a million
// aggregates takes seconds to list, longer than a JetStream request's
// default timeout when the machine is busy.
const indexTimeout = 2 * time.Minute

// loadIndex lists every subject of the log. The subjects' last sequences
// are learnt as they are loaded or appended to.
func loadIndex(ctx context.Context, stream jetstream.Stream, prefix string) (*index, error) {
	ctx, cancel := context.WithTimeout(ctx, indexTimeout)
	defer cancel()
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(prefix+".>"))
	if err != nil {
		return nil, fmt.Errorf("list the log's aggregates: %w", err)
	}
	ix := &index{last: make(map[string]uint64, len(info.State.Subjects))}
	for subject := range info.State.Subjects {
		ix.last[subject] = 0
	}
	return ix, nil
}

// lookup returns the last sequence of subject (0 when not known yet) and
// whether the subject exists.
func (ix *index) lookup(subject string) (uint64, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	seq, ok := ix.last[subject]
	return seq, ok
}

// moved records that subject's last message is at seq (never moving back).
func (ix *index) moved(subject string, seq uint64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if seq > ix.last[subject] {
		ix.last[subject] = seq
	}
}

// unknown records that subject exists (or may) at a sequence not known.
func (ix *index) unknown(subject string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.last[subject] = 0
}
