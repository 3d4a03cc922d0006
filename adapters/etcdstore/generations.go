package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"
)

// Generations of the read models: a rebuild writes a fresh generation under
// {base}/g{N}/ while the current one keeps serving, then switches every
// server to it in one step by changing the key {base}/generation.

func genPrefix(base string, gen int) string { return base + "/g" + strconv.Itoa(gen) + "/" }

func pointerKey(base string) string { return base + "/generation" }

// Open returns the store on the current generation of the read models under
// base ("/conveyor" when empty), the first one on a new cluster. Until ctx
// ends it follows a switch to another generation.
func Open(ctx context.Context, c *clientv3.Client, base string) (*Store, error) {
	if base == "" {
		base = "/conveyor"
	}
	base = strings.TrimRight(base, "/")
	s := &Store{c: c, base: base}
	gen, rev, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	s.use(gen)
	go s.follow(ctx, rev)
	return s, nil
}

func (s *Store) current(ctx context.Context) (int, int64, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	resp, err := s.c.Get(ctx, pointerKey(s.base))
	if err != nil {
		return 0, 0, fmt.Errorf("read model generation: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return 1, resp.Header.Revision, nil
	}
	gen, err := strconv.Atoi(string(resp.Kvs[0].Value))
	if err != nil || gen < 1 {
		return 0, 0, fmt.Errorf("read model generation %q is not a positive number", resp.Kvs[0].Value)
	}
	return gen, resp.Header.Revision, nil
}

func (s *Store) use(gen int) {
	p := genPrefix(s.base, gen)
	s.prefix.Store(&p)
	s.gen.Store(int64(gen))
}

// follow switches to the generation the pointer names whenever it changes.
// A watch that lost the revisions after rev to a compaction reads the
// pointer again and goes on from there.
func (s *Store) follow(ctx context.Context, rev int64) {
	for ctx.Err() == nil {
		for resp := range s.c.Watch(clientv3.WithRequireLeader(ctx), pointerKey(s.base), clientv3.WithRev(rev+1)) {
			if resp.CompactRevision != 0 {
				gen, now, err := s.current(ctx)
				if err != nil {
					select { // etcd is away: look again in a moment
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
					break
				}
				s.use(gen)
				rev = now
				break
			}
			for _, ev := range resp.Events {
				if gen, err := strconv.Atoi(string(ev.Kv.Value)); err == nil && gen > 0 {
					s.use(gen)
				}
				rev = ev.Kv.ModRevision
			}
		}
	}
}

// Generation is the generation this store reads and writes.
func (s *Store) Generation() int { return int(s.gen.Load()) }

// At is a store fixed on generation gen, e.g. the one a rebuild fills.
func (s *Store) At(gen int) projections.Store {
	f := &Store{c: s.c, base: s.base, bulk: s.bulk}
	f.use(gen)
	return f
}

// WriteAll applies ops to generation gen, many per transaction (within the
// store's BulkLimits) and several transactions in flight: every key at most
// once, so that their order does not matter. A put whose value etcd refuses
// even alone is left out: its event was parked.
func (s *Store) WriteAll(ctx context.Context, gen int, ops []projections.Op) error {
	prefix := genPrefix(s.base, gen)
	limits := s.bulkLimits()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limits.InFlight)
	for start := 0; start < len(ops); {
		end, size := start, 0
		for end < len(ops) && end-start < limits.Ops {
			size += len(prefix) + len(ops[end].Key) + len(ops[end].Value)
			if end > start && size > limits.Bytes {
				break
			}
			end++
		}
		batch := ops[start:end]
		start = end
		g.Go(func() error {
			err := s.write(gctx, prefix, batch)
			if err == nil || len(batch) == 1 || errors.Is(unavailable(err), domain.ErrUnavailable) {
				return err
			}
			for _, op := range batch {
				if err := s.write(gctx, prefix, []projections.Op{op}); err != nil && errors.Is(unavailable(err), domain.ErrUnavailable) {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// write applies ops under prefix in one transaction.
func (s *Store) write(ctx context.Context, prefix string, ops []projections.Op) error {
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second) // bulk writes may wait on compaction
	defer cancel()
	if _, err := s.c.Txn(tctx).Then(etcdOps(prefix, ops)...).Commit(); err != nil {
		return fmt.Errorf("write %d keys under %s: %w", len(ops), prefix, err)
	}
	return nil
}

// ErrGenerationMoved: another rebuild switched the generation first.
var ErrGenerationMoved = errors.New("the read model generation changed meanwhile")

// Switch makes generation to current for every server, if from still is.
func (s *Store) Switch(ctx context.Context, from, to int) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	key := pointerKey(s.base)
	cond := clientv3.Compare(clientv3.Value(key), "=", strconv.Itoa(from))
	if from == 1 {
		resp, err := s.c.Get(ctx, key)
		if err != nil {
			return err
		}
		if len(resp.Kvs) == 0 {
			cond = clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
		}
	}
	resp, err := s.c.Txn(ctx).If(cond).Then(clientv3.OpPut(key, strconv.Itoa(to))).Commit()
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		return ErrGenerationMoved
	}
	s.use(to)
	return nil
}

// dropChunk is how many keys one delete of Drop removes: one delete of a
// million keys is one raft entry that etcd takes longer to apply than it
// lets a request wait. A variable for tests.
var dropChunk int64 = 10000

// Drop deletes every key of generation gen, a range of dropChunk keys at a
// time. Each range starts after the last key deleted: deleted keys stay in
// etcd's index until it compacts, and a scan from the prefix would walk
// every one of them again.
func (s *Store) Drop(ctx context.Context, gen int) error {
	from := genPrefix(s.base, gen)
	end := clientv3.GetPrefixRangeEnd(from)
	for {
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		resp, err := s.c.Get(tctx, from, clientv3.WithRange(end), clientv3.WithKeysOnly(), clientv3.WithLimit(dropChunk))
		if err == nil && len(resp.Kvs) > 0 {
			next := string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
			_, err = s.c.Delete(tctx, from, clientv3.WithRange(next))
			from = next
		}
		cancel()
		if err != nil {
			return fmt.Errorf("drop generation %d: %w", gen, err)
		}
		if int64(len(resp.Kvs)) < dropChunk {
			return nil
		}
	}
}
