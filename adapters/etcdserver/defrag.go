package etcdserver

import (
	"log/slog"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// etcd's file never shrinks: a compaction frees pages for reuse, and after
// a burst whose runs the read models then let go of (projections.Retention)
// much of the file can be free pages. etcd maps the whole file with its
// pages read in (MAP_POPULATE on Linux), free ones too, so they count in the
// resident set as data does. So the embedded etcd rewrites its file without
// the free pages when they are most of it: at start, before the server
// serves, and once after a burst, when nothing was written for a while
// (compact.go). A rewrite stops every read and write while it lasts, which
// is why it waits for a quiet moment and never runs under load.

// defragRule says when a file is worth rewriting: when it is at least
// minBytes and more than freeShare of it is free pages.
type defragRule struct {
	minBytes  int64
	freeShare float64
}

var (
	// defragAtStart: a start that rewrites takes longer, so only a file
	// mostly free.
	defragAtStart = defragRule{minBytes: 64 << 20, freeShare: 0.5}
	// defragWhenQuiet: a rewrite while nothing is written costs a pause
	// of reads, so a quarter of the file free is worth it.
	defragWhenQuiet = defragRule{minBytes: 64 << 20, freeShare: 0.25}
)

// defragIfMostlyFree rewrites e's file when the rule says it is worth it. A
// failed rewrite leaves the file as it was; the server runs on.
func defragIfMostlyFree(e *embed.Etcd, log *slog.Logger, rule defragRule) {
	b := e.Server.Backend()
	size, inUse := b.Size(), b.SizeInUse()
	if size < rule.minBytes || float64(size-inUse) <= rule.freeShare*float64(size) {
		log.Debug("etcd: the file is not worth rewriting", "bytes", size, "in_use", inUse)
		return
	}
	start := time.Now()
	if err := b.Defrag(); err != nil {
		log.Warn("etcd: could not rewrite the file without its free pages", "bytes", size, "in_use", inUse, "err", err)
		return
	}
	log.Info("etcd: rewrote the file without its free pages", "before", size, "after", b.Size(), "took", time.Since(start).Round(time.Millisecond))
}
