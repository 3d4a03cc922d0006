package eventstore

import (
	"strconv"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// chainCacheSize bounds the aggregates whose stored events Load remembers;
// when full, the cache starts over.
const chainCacheSize = 4096

// chains remembers the stored messages of recently loaded aggregates, in
// log order, by subject. The log is append-only and every event names the
// one before it, so a remembered chain stays true: Load reads the
// aggregate's last event and fetches only what was appended after the chain
// it remembers. It keeps each event's stored JSON, not decoded events, so
// that no caller can change what another one loads, and not the message's
// headers, which cost more memory than the event.
type chains struct {
	mu sync.Mutex
	m  map[string][]link
}

// link is one stored event of a chain: its log sequence, the sequence of
// the aggregate's event before it (0 for the first), and its JSON.
type link struct {
	seq, prev uint64
	data      []byte
}

// linkOf is the link of a stored message.
func linkOf(raw *jetstream.RawStreamMsg) link {
	prev, _ := strconv.ParseUint(raw.Header.Get(HeaderPrevious), 10, 64)
	return link{seq: raw.Sequence, prev: prev, data: raw.Data}
}

func newChains() *chains { return &chains{m: map[string][]link{}} }

// get returns the remembered chain of subject (nil when none).
func (c *chains) get(subject string) []link {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[subject]
}

// put remembers chain as the whole of subject's stream.
func (c *chains) put(subject string, chain []link) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= chainCacheSize {
		clear(c.m)
	}
	c.m[subject] = chain
}

// drop forgets subject's chain.
func (c *chains) drop(subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, subject)
}
