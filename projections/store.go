package projections

import "context"

// KV is one key of the read-model store; keys are relative to the store's
// prefix.
type KV struct {
	Key         string
	Value       []byte
	ModRevision int64 // changes on every write of the key; 0 for a missing key
}

// Guard holds when Key's mod revision is still ModRevision (0: Key is absent).
type Guard struct {
	Key         string
	ModRevision int64
}

// Op is one write of a commit: a put, a delete, or a delete of every key
// under the prefix Key.
type Op struct {
	Key    string
	Value  []byte
	Delete bool
	Prefix bool
}

// Store is the key-value store the read models live in. Implementations are
// safe for concurrent use.
type Store interface {
	// Get returns the key, or ok false when it is absent.
	Get(ctx context.Context, key string) (kv KV, ok bool, err error)
	// List returns up to limit keys under prefix that sort after startAfter
	// (all when empty), in key order, and whether more follow.
	List(ctx context.Context, prefix, startAfter string, limit int) ([]KV, bool, error)
	// Count is the number of keys under prefix.
	Count(ctx context.Context, prefix string) (int, error)
	// Commit applies ops in one transaction if every guard holds, and
	// reports whether they held and the revision the writes got (the mod
	// revision of every key written); when not, nothing is written.
	Commit(ctx context.Context, guards []Guard, ops []Op) (revision int64, ok bool, err error)
}
