package eventstore

import (
	lru "github.com/hashicorp/golang-lru/v2"
)

// indexSize bounds the aggregates whose last sequence a sole writer keeps.
const indexSize = 16384

// index is the last log sequence of recently used aggregates' subjects, for
// a store that is the log's only writer (Config.SoleWriter): learnt as they
// are loaded, found absent or appended to, and moved by every append of this
// store. With it, loading an aggregate whose events the chain cache holds
// costs no request, and an aggregate once found absent is known absent
// until this store appends to it. It holds the aggregates used most
// recently, not every aggregate of the log: an aggregate it forgot is asked
// of the stream, so that its memory and the server's start-up follow the
// work, not the history. Safe for concurrent use.
type index struct {
	last *lru.Cache[string, uint64] // 0: the subject holds no message
}

func newIndex() *index { return newIndexOf(indexSize) }

func newIndexOf(size int) *index {
	last, err := lru.New[string, uint64](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &index{last: last}
}

// lookup returns the last sequence of subject (0: it holds no message) and
// whether the index knows it.
func (ix *index) lookup(subject string) (uint64, bool) { return ix.last.Get(subject) }

// moved records that subject's last message is at seq (0: it has none);
// a sequence it knows is never moved back.
func (ix *index) moved(subject string, seq uint64) {
	if known, ok := ix.last.Peek(subject); ok && known > seq {
		return
	}
	ix.last.Add(subject, seq)
}

// unknown forgets subject's last sequence: the next load asks the stream.
func (ix *index) unknown(subject string) { ix.last.Remove(subject) }

// len is how many subjects the index knows.
func (ix *index) len() int { return ix.last.Len() }
