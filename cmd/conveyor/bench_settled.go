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
	after time.Duration // from the end of the load
	ok    bool          // false: it did not settle within wait
	wait  time.Duration // how long it was waited for (0: not)
	parts string        // the resident set split, as residentParts says
}

// waitSettled waits until the server logged more settles than seen, at
// most until wait after from, then until it handed back the memory the
// settling took (it looks every 10 s: cmd/conveyor/memory_return.go), at
// most returnWait more, and reads its resident set. The server's embedded
// etcd settles two minutes after its last write (adapters/etcdserver,
// compactQuiet). With wait 0 it reads nothing.
func (s *ownServer) waitSettled(ctx context.Context, seen int64, from time.Time, wait time.Duration) (settledMemory, error) {
	m := settledMemory{wait: wait}
	if wait <= 0 {
		return m, nil
	}
	if err := pollUntil(ctx, func() bool { return s.settles.Load() > seen }, from.Add(wait)); err != nil {
		return m, err
	}
	m.ok = s.settles.Load() > seen
	m.after = time.Since(from)
	if m.ok {
		returned := s.returns.Load() // what the burst handed back came before
		if err := pollUntil(ctx, func() bool { return s.returns.Load() > returned }, time.Now().Add(returnWait)); err != nil {
			return m, err
		}
	}
	pid := s.cmd.Process.Pid
	var err error
	if m.rss, err = residentMemory(pid); err != nil {
		return m, err
	}
	m.parts = residentParts(pid, m.rss)
	return m, nil
}

// returnWait bounds the wait for the memory handed back after settling:
// two of the server's looks and a margin.
const returnWait = 25 * time.Second

// pollUntil polls done every half second until it holds or deadline passes.
func pollUntil(ctx context.Context, done func() bool, deadline time.Time) error {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for !done() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// row is the settled resident set as a row of the table.
func (m settledMemory) row(scenario string) row {
	if !m.ok {
		return row{scenario, "server resident set", fmt.Sprintf("%s: etcd did not settle within %v", m.parts, m.wait)}
	}
	return row{scenario, "server resident set", fmt.Sprintf("%s, %v after the load ended", m.parts, m.after.Round(time.Second))}
}
