package eventstore

import (
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
// it remembers. It keeps the messages as stored, not decoded events, so that
// no caller can change what another one loads.
type chains struct {
	mu sync.Mutex
	m  map[string][]*jetstream.RawStreamMsg
}

func newChains() *chains { return &chains{m: map[string][]*jetstream.RawStreamMsg{}} }

// get returns the remembered chain of subject (nil when none).
func (c *chains) get(subject string) []*jetstream.RawStreamMsg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[subject]
}

// put remembers chain as the whole of subject's stream.
func (c *chains) put(subject string, chain []*jetstream.RawStreamMsg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= chainCacheSize {
		clear(c.m)
	}
	c.m[subject] = chain
}
