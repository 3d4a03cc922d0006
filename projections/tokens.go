package projections

import (
	"slices"
	"strings"
	"sync"

	"github.com/conveyor/conveyor/domain"
)

// Tokens is the read model that authenticates API requests: the active
// tokens by the hash of their secret, kept in memory and current from the
// log. It is safe for concurrent use. The secret is never held, only its
// hash.
type Tokens struct {
	mu      sync.RWMutex
	byHash  map[string]domain.Token
	byName  map[string]domain.Token
	version map[string]uint64
	// seq is the log sequence of the last token event applied.
	seq uint64
}

// NewTokens returns an empty table.
func NewTokens() *Tokens {
	return &Tokens{byHash: map[string]domain.Token{}, byName: map[string]domain.Token{}, version: map[string]uint64{}}
}

// Apply folds a token event into the table; other events, and events of a
// token older than what the table holds, change nothing, so an event may
// be applied twice (by the command that wrote it and by the log's follower).
func (t *Tokens) Apply(e domain.Event) {
	m := e.EventMeta()
	if m.Aggregate != domain.AggregateToken {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if m.Sequence > t.seq {
		t.seq = m.Sequence
	}
	if m.Version <= t.version[m.AggregateID] {
		return
	}
	t.version[m.AggregateID] = m.Version
	if old, ok := t.byName[m.AggregateID]; ok {
		delete(t.byHash, old.Hash)
		delete(t.byName, m.AggregateID)
	}
	if issued, ok := e.(*domain.TokenIssued); ok {
		t.byName[m.AggregateID] = issued.Token
		t.byHash[issued.Token.Hash] = issued.Token
	}
}

// Sequence is the log position of the last token event applied.
func (t *Tokens) Sequence() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.seq
}

// Authenticate returns the active token whose secret this is.
func (t *Tokens) Authenticate(secret string) (domain.Token, bool) {
	hash := domain.HashSecret(secret)
	t.mu.RLock()
	defer t.mu.RUnlock()
	tok, ok := t.byHash[hash]
	return tok, ok
}

// ByHash returns the active token whose secret has this hash (see
// domain.HashSecret).
func (t *Tokens) ByHash(hash string) (domain.Token, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	tok, ok := t.byHash[hash]
	return tok, ok
}

// Active lists the active tokens by name, their hashes left out.
func (t *Tokens) Active() []domain.Token {
	t.mu.RLock()
	list := make([]domain.Token, 0, len(t.byName))
	for _, tok := range t.byName {
		tok.Hash = ""
		list = append(list, tok)
	}
	t.mu.RUnlock()
	slices.SortFunc(list, func(a, b domain.Token) int { return strings.Compare(a.Name, b.Name) })
	return list
}

// Has reports whether some active token has role r.
func (t *Tokens) Has(r domain.Role) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, tok := range t.byName {
		if tok.Role == r {
			return true
		}
	}
	return false
}
