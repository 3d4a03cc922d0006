package eventstore

import (
	"bytes"
	"strconv"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/nats-io/nats.go/jetstream"
)

// chainCacheSize bounds the aggregates whose stored events Load remembers;
// past it, the one used least recently is forgotten.
const chainCacheSize = 2048

// chains remembers the stored messages of recently loaded aggregates, in
// log order, by subject. The log is append-only and every event names the
// one before it, so a remembered chain stays true: Load reads the
// aggregate's last event and fetches only what was appended after the chain
// it remembers. It keeps each event's stored JSON, not decoded events, so
// that no caller can change what another one loads, and not the message's
// headers, which cost more memory than the event. Safe for concurrent use.
type chains struct {
	m *lru.Cache[string, []link]
}

// link is one stored message of a chain: its log sequence, the sequence of
// the aggregate's message before it (0 for the first), its JSON, and
// whether its last event holds the aggregate's whole state (a chain then
// starts at it: see fromSnapshot).
type link struct {
	seq, prev uint64
	data      []byte
	snapshot  bool
}

// linkOf is the link of a stored message. Its JSON is copied: the
// message's data shares one buffer with its headers, which a link would
// otherwise keep alive for as long as the chain is remembered.
func linkOf(raw *jetstream.RawStreamMsg) link {
	prev, _ := strconv.ParseUint(raw.Header.Get(HeaderPrevious), 10, 64)
	return link{seq: raw.Sequence, prev: prev, data: bytes.Clone(raw.Data), snapshot: raw.Header.Get(HeaderSnapshot) != ""}
}

// fromSnapshot is chain from its last snapshot on (all of it when it holds
// none): what the aggregate's state needs, however long its history.
func fromSnapshot(chain []link) []link {
	for i := len(chain) - 1; i > 0; i-- {
		if chain[i].snapshot {
			return chain[i:]
		}
	}
	return chain
}

func newChains() *chains { return newChainsOf(chainCacheSize) }

func newChainsOf(size int) *chains {
	m, err := lru.New[string, []link](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &chains{m: m}
}

// get returns the remembered chain of subject (nil when none).
func (c *chains) get(subject string) []link {
	chain, _ := c.m.Get(subject)
	return chain
}

// put remembers chain as the whole of subject's stream.
func (c *chains) put(subject string, chain []link) { c.m.Add(subject, chain) }

// drop forgets subject's chain.
func (c *chains) drop(subject string) { c.m.Remove(subject) }

// dropAll forgets every chain.
func (c *chains) dropAll() { c.m.Purge() }

// len is how many aggregates' chains are remembered.
func (c *chains) len() int { return c.m.Len() }
