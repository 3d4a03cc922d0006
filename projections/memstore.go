package projections

import (
	"context"
	"sort"
	"strings"
	"sync"
)

// MemStore is a Store in memory: a rebuild or a verify projects the whole
// log into one, far faster than into etcd, then writes or compares it in
// bulk. Safe for concurrent use.
type MemStore struct {
	mu   sync.Mutex
	kvs  map[string]KV
	rev  int64
	keys []string // sorted; nil when it must be rebuilt
	// changed are the keys written or deleted since the last TakeChanges,
	// when tracked.
	changed map[string]struct{}
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{kvs: map[string]KV{}} }

// Get implements Store.
func (m *MemStore) Get(_ context.Context, key string) (KV, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kv, ok := m.kvs[key]
	if !ok {
		return KV{Key: key}, false, nil
	}
	return kv, true, nil
}

func (m *MemStore) sorted() []string {
	if m.keys == nil {
		m.keys = make([]string, 0, len(m.kvs))
		for k := range m.kvs {
			m.keys = append(m.keys, k)
		}
		sort.Strings(m.keys)
	}
	return m.keys
}

// List implements Store.
func (m *MemStore) List(_ context.Context, prefix, startAfter string, limit int) ([]KV, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := m.sorted()
	from := prefix + startAfter
	i := sort.SearchStrings(keys, from)
	if startAfter != "" && i < len(keys) && keys[i] == from {
		i++
	}
	var out []KV
	for ; i < len(keys) && strings.HasPrefix(keys[i], prefix); i++ {
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, m.kvs[keys[i]])
	}
	return out, false, nil
}

// Count implements Store.
func (m *MemStore) Count(_ context.Context, prefix string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k := range m.kvs {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n, nil
}

// Commit implements Store.
func (m *MemStore) Commit(_ context.Context, guards []Guard, ops []Op) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, g := range guards {
		if m.kvs[g.Key].ModRevision != g.ModRevision {
			return 0, false, nil
		}
	}
	m.rev++
	for _, op := range ops {
		switch {
		case op.Delete && op.Prefix:
			for k := range m.kvs {
				if strings.HasPrefix(k, op.Key) {
					delete(m.kvs, k)
					m.change(k)
				}
			}
		case op.Delete:
			delete(m.kvs, op.Key)
			m.change(op.Key)
		default:
			m.kvs[op.Key] = KV{Key: op.Key, Value: op.Value, ModRevision: m.rev}
			m.change(op.Key)
		}
	}
	m.keys = nil
	return m.rev, true, nil
}

// All returns every key and value, sorted by key.
func (m *MemStore) All() []KV {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]KV, 0, len(m.kvs))
	for _, k := range m.sorted() {
		out = append(out, m.kvs[k])
	}
	return out
}

// TrackChanges makes the store remember which keys each commit changes,
// for TakeChanges.
func (m *MemStore) TrackChanges() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.changed = map[string]struct{}{}
}

func (m *MemStore) change(key string) {
	if m.changed != nil {
		m.changed[key] = struct{}{}
	}
}

// TakeChanges returns, sorted by key, the writes that bring a copy of the
// store up to date with it, when the copy had every change up to the last
// call (or was empty before the first): a put of each key changed since
// then, a delete of each key removed. The changes are as of the last
// commit, never half of one.
func (m *MemStore) TakeChanges() []Op {
	m.mu.Lock()
	ops := make([]Op, 0, len(m.changed))
	for k := range m.changed {
		if kv, ok := m.kvs[k]; ok {
			ops = append(ops, Op{Key: k, Value: kv.Value})
		} else {
			ops = append(ops, Op{Key: k, Delete: true})
		}
	}
	clear(m.changed)
	m.mu.Unlock()
	sort.Slice(ops, func(i, j int) bool { return ops[i].Key < ops[j].Key })
	return ops
}

// Len is the number of keys.
func (m *MemStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.kvs)
}
