package etcdserver

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/server/v3/storage/mvcc"
)

// Compaction by the work done, not by the clock. etcd keeps every revision
// of every key, in its key index and in its file, until a compaction; and a
// compaction walks the whole key index, every key ever written. On a clock
// (etcd's periodic mode) an idle server with a long history pays that walk
// every period for nothing, and a busy one piles up revisions between two.
// So the embedded etcd compacts when compactAfter revisions were written
// since the last compaction, keeping the last compactKeep: never while
// nothing is written, and often enough under load that old revisions do not
// pile up. A revision is one transaction, and the projector writes up to a
// hundred keys in each: 1,000 of them are about ten seconds of a burst of
// runs. It counts from the revision at start: a restarted server has
// nothing to compact before it writes.
//
// A burst leaves up to compactAfter revisions of old values behind it, and
// whatever the burst made the file grow by. So once nothing was written for
// compactQuiet, the server compacts what was written since the last
// compaction, once, and rewrites the file when it is mostly free pages
// (defrag.go): etcd maps its whole file into memory, so free pages cost
// resident memory as much as data does. Both walk what the file holds now,
// never the history the log keeps, and cost seconds of CPU for a file of a
// few hundred MB, while the rewrite stops every read: so they wait for two
// minutes without a write, and a server whose bursts come a minute apart
// never stops between them (with 30 s, the scale bench's first idle minute
// after 100,000 runs spent 5.4 % of a core, against 2 % allowed).
const (
	compactEvery = 5 * time.Second
	compactAfter = 1000
	compactKeep  = 100
	compactQuiet = 2 * time.Minute
)

// compact compacts as described above until the server closes.
func (s *Server) compact() {
	defer close(s.compacted)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.closing
		cancel()
	}()
	tick := time.NewTicker(compactEvery)
	defer tick.Stop()
	last := s.e.Server.KV().Rev()
	seen, changed := last, time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if rev := s.e.Server.KV().Rev(); rev != seen {
			seen, changed = rev, time.Now()
		}
		if time.Since(changed) >= compactQuiet {
			last = s.settle(ctx, last, compactKeep, defragWhenQuiet)
			continue
		}
		last = s.compactIfDue(ctx, last, compactAfter, compactKeep)
	}
}

// settle is the compaction once writing stopped: when anything was written
// since last, it compacts all but the last keep revisions, waits until the
// compaction freed their pages, rewrites the file when the rule says it
// is worth it, and hands back the file's pages (pageout.go). It returns
// the last revision it wrote or compacted at (last when nothing was
// written since).
//
// etcd counts the pages a compaction frees as free only once a later write
// is committed, and nothing else writes while the server is quiet: so when
// the file is large enough to be worth rewriting, settle writes settledKey
// (outside the read models' prefix), twice, before it looks.
func (s *Server) settle(ctx context.Context, last, keep int64, rule defragRule) int64 {
	rev := s.e.Server.KV().Rev()
	if rev == last || rev <= keep {
		return last
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := s.e.Server.Compact(ctx, &etcdserverpb.CompactionRequest{Revision: rev - keep, Physical: true})
	if err != nil && !errors.Is(err, mvcc.ErrCompacted) {
		// The next look tries again; the line says why it has not
		// settled yet.
		s.log.Warn("etcd: could not compact once writes stopped", "revision", rev-keep, "took", time.Since(start).Round(time.Millisecond), "err", err)
		return last
	}
	b := s.e.Server.Backend()
	defer func() {
		before, after := s.pageOut()
		if s.settled != nil {
			s.settled() // before the line: load tests read the steady state once it is logged
		}
		s.log.Info(SettledMessage, "compacted_to", rev-keep, "bytes", b.Size(), "resident_before", before, "resident_after", after, "took", time.Since(start).Round(time.Millisecond))
	}()
	if b.Size() < rule.minBytes {
		return rev
	}
	// bbolt hands a page freed by transaction N back only when a write
	// transaction begins after every reader of N-1 ended; etcd reopens
	// its reader at each commit, so that is the second commit after the
	// compaction's, and only a commit counts the free pages.
	written := rev
	for range 2 {
		resp, err := s.e.Server.Put(ctx, &etcdserverpb.PutRequest{Key: []byte(settledKey), Value: []byte(strconv.FormatInt(rev-keep, 10))})
		if err != nil {
			return written
		}
		written = resp.Header.Revision
		b.ForceCommit()
	}
	defragIfMostlyFree(s.e, s.log, rule)
	return written
}

// SettledMessage is the message of the line the server logs once it
// settled after writes stopped: what load tests wait for to read the
// steady state.
const SettledMessage = "etcd settled after writes stopped"

// settledKey holds the revision of the last compaction after a burst. It is
// written so that the pages of that compaction count as free.
const settledKey = "etcdserver/settled"

// compactIfDue compacts to the current revision less keep when at least
// after revisions were written since last, and returns the revision it
// compacted at (last when it did not).
func (s *Server) compactIfDue(ctx context.Context, last, after, keep int64) int64 {
	rev := s.e.Server.KV().Rev()
	if rev-last < after || rev <= keep {
		return last
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := s.e.Server.Compact(ctx, &etcdserverpb.CompactionRequest{Revision: rev - keep})
	if err != nil && !errors.Is(err, mvcc.ErrCompacted) {
		return last // tried again at the next tick
	}
	return rev
}
