package main

import (
	"context"
	"fmt"
	"time"
)

// settledMemory is the resident set once the server settled after a load:
// etcd compacted and, when worth it, rewrote its file. Its steady state,
// which the idle window right after the load ends before.
type settledMemory struct {
	rss   int64
	after time.Duration // from the start of the idle window
	ok    bool          // false: it did not settle within wait
	wait  time.Duration // how long it was waited for (0: not)
	parts string        // the resident set split, as residentParts says
}

// waitSettled waits until the server logged more settles than seen, at
// most until wait after from, then reads its resident set. The server's
// embedded etcd settles two minutes after its last write
// (adapters/etcdserver, compactQuiet). With wait 0 it reads nothing.
func (s *ownServer) waitSettled(ctx context.Context, seen int64, from time.Time, wait time.Duration) (settledMemory, error) {
	m := settledMemory{wait: wait}
	if wait <= 0 {
		return m, nil
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for !m.ok && time.Since(from) < wait {
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-tick.C:
		}
		m.ok = s.settles.Load() > seen
	}
	m.after = time.Since(from)
	pid := s.cmd.Process.Pid
	var err error
	if m.rss, err = residentMemory(pid); err != nil {
		return m, err
	}
	m.parts = residentParts(pid, m.rss)
	return m, nil
}

// row is the settled resident set as a row of the table.
func (m settledMemory) row(scenario string) row {
	if !m.ok {
		return row{scenario, "server resident set", fmt.Sprintf("%s: etcd did not settle within %v", m.parts, m.wait)}
	}
	return row{scenario, "server resident set", fmt.Sprintf("%s, %v after the idle window began", m.parts, m.after.Round(time.Second))}
}
