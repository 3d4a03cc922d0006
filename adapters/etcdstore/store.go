package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultTimeout bounds a call whose context has no deadline: short, so
// that a request fails fast while etcd is away.
const DefaultTimeout = 2 * time.Second

// unavailable marks a failure to reach etcd as domain.ErrUnavailable.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return fmt.Errorf("read model store: %w: %w", domain.ErrUnavailable, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("read model store: %w: %w", domain.ErrUnavailable, err)
	}
	return err
}

// Store is the read-model store on etcd. Safe for concurrent use.
type Store struct {
	c      *clientv3.Client
	base   string
	prefix atomic.Pointer[string] // where the current generation lives
	gen    atomic.Int64
	bulk   BulkLimits
}

var _ projections.Store = (*Store)(nil)

// New returns a store keeping keys right under prefix ("/conveyor" when
// empty), with no generations: for tests and tools. Servers use Open.
func New(c *clientv3.Client, prefix string) *Store {
	if prefix == "" {
		prefix = "/conveyor"
	}
	s := &Store{c: c, base: strings.TrimRight(prefix, "/")}
	p := s.base + "/"
	s.prefix.Store(&p)
	return s
}

func (s *Store) pre() string { return *s.prefix.Load() }

func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

// Get implements projections.Store.
func (s *Store) Get(ctx context.Context, key string) (projections.KV, bool, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	resp, err := s.c.Get(ctx, s.pre()+key)
	if err != nil || len(resp.Kvs) == 0 {
		return projections.KV{Key: key}, false, unavailable(err)
	}
	kv := resp.Kvs[0]
	return projections.KV{Key: key, Value: kv.Value, ModRevision: kv.ModRevision}, true, nil
}

// List implements projections.Store.
func (s *Store) List(ctx context.Context, prefix, startAfter string, limit int) ([]projections.KV, bool, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	base := s.pre()
	from := base + prefix
	if startAfter != "" {
		from = base + prefix + startAfter + "\x00"
	}
	end := clientv3.GetPrefixRangeEnd(base + prefix)
	resp, err := s.c.Get(ctx, from, clientv3.WithRange(end), clientv3.WithLimit(int64(limit)),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, false, unavailable(err)
	}
	out := make([]projections.KV, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		out[i] = projections.KV{Key: strings.TrimPrefix(string(kv.Key), base), Value: kv.Value, ModRevision: kv.ModRevision}
	}
	return out, resp.More, nil
}

// Count implements projections.Store.
func (s *Store) Count(ctx context.Context, prefix string) (int, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	resp, err := s.c.Get(ctx, s.pre()+prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, unavailable(err)
	}
	return int(resp.Count), nil
}

// Commit implements projections.Store.
func (s *Store) Commit(ctx context.Context, guards []projections.Guard, ops []projections.Op) (int64, bool, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	base := s.pre()
	cmps := make([]clientv3.Cmp, len(guards))
	for i, g := range guards {
		cmps[i] = clientv3.Compare(clientv3.ModRevision(base+g.Key), "=", g.ModRevision)
	}
	resp, err := s.c.Txn(ctx).If(cmps...).Then(etcdOps(base, ops)...).Commit()
	if err != nil {
		return 0, false, unavailable(err)
	}
	return resp.Header.Revision, resp.Succeeded, nil
}

// etcdOps are ops as etcd operations on keys under prefix.
func etcdOps(prefix string, ops []projections.Op) []clientv3.Op {
	out := make([]clientv3.Op, len(ops))
	for i, op := range ops {
		switch {
		case op.Delete && op.Prefix:
			out[i] = clientv3.OpDelete(prefix+op.Key, clientv3.WithPrefix())
		case op.Delete:
			out[i] = clientv3.OpDelete(prefix + op.Key)
		default:
			out[i] = clientv3.OpPut(prefix+op.Key, string(op.Value))
		}
	}
	return out
}

// Prefix is the key prefix of the generation in use, with its trailing slash.
func (s *Store) Prefix() string { return s.pre() }
