package etcdserver

import (
	"log/slog"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// etcd's file never shrinks: a compaction frees pages for reuse, and after
// a burst whose runs the read models then let go of (projections.Retention)
// much of the file can be free pages. The whole file is mapped, and the
// pages read while it is opened stay in the resident set. So at start, before the server serves, the embedded etcd
// rewrites its file without the free pages when they are most of it: a
// start-up that takes longer, once in a while, for a smaller file and
// resident set after it. Later, at runtime, a rewrite would stop every read
// and write while it lasts, so it happens only at start.
const (
	// defragMinBytes is the smallest file worth rewriting.
	defragMinBytes = 64 << 20
	// defragFreeShare: rewrite when more than this share of the file is
	// free pages.
	defragFreeShare = 0.5
)

// defragIfMostlyFree rewrites e's file when it is at least defragMinBytes
// and free pages are more than defragFreeShare of it. A failed rewrite
// leaves the file as it was; the server runs on.
func defragIfMostlyFree(e *embed.Etcd, log *slog.Logger) {
	b := e.Server.Backend()
	size, inUse := b.Size(), b.SizeInUse()
	if size < defragMinBytes || float64(size-inUse) <= defragFreeShare*float64(size) {
		return
	}
	start := time.Now()
	if err := b.Defrag(); err != nil {
		log.Warn("etcd: could not rewrite the file without its free pages", "bytes", size, "in_use", inUse, "err", err)
		return
	}
	log.Info("etcd: rewrote the file without its free pages", "before", size, "after", b.Size(), "took", time.Since(start).Round(time.Millisecond))
}
