package etcdserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// The embedded etcd compacts once enough revisions were written since it
// last did, keeping the latest ones, and not at all while nothing is
// written.
func TestCompactsByRevisionsWrittenNotByTheClock(t *testing.T) {
	ctx := context.Background()
	s, c := startWithClient(t, io.Discard)
	write := func(n int) int64 {
		var rev int64
		for i := range n {
			resp, err := c.Put(ctx, "k", fmt.Sprint(i))
			if err != nil {
				t.Fatal(err)
			}
			rev = resp.Header.Revision
		}
		return rev
	}
	readAt := func(rev int64) error { _, err := c.Get(ctx, "k", clientv3.WithRev(rev)); return err }

	rev := write(30)
	if last := s.compactIfDue(ctx, 0, 50, 5); last != 0 {
		t.Errorf("compacted at %d after %d revisions, want not before 50", last, rev)
	}
	rev = write(30)
	last := s.compactIfDue(ctx, 0, 50, 5)
	if last != rev {
		t.Fatalf("compacted at %d, want at the current revision %d", last, rev)
	}
	if err := readAt(rev - 10); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Errorf("read 10 revisions back: %v, want them compacted", err)
	}
	if err := readAt(rev - 4); err != nil {
		t.Errorf("read 4 revisions back: %v, want the last 5 kept", err)
	}
	if again := s.compactIfDue(ctx, last, 50, 5); again != last {
		t.Errorf("compacted again at %d with nothing written since %d", again, last)
	}
}

// TestSettleCompactsAndRewritesAfterABurst: once writing stopped, what a
// burst wrote since the last compaction is compacted, and a file grown
// mostly of old values is rewritten smaller, the latest value kept; with
// nothing written since, settling again does nothing.
func TestSettleCompactsAndRewritesAfterABurst(t *testing.T) {
	ctx := context.Background()
	var logged bytes.Buffer
	s, c := startWithClient(t, &logged)
	start := s.e.Server.KV().Rev()
	value := strings.Repeat("v", 64<<10)
	var rev int64
	for i := range 200 {
		resp, err := c.Put(ctx, "k", fmt.Sprintf("%03d%s", i, value))
		if err != nil {
			t.Fatal(err)
		}
		rev = resp.Header.Revision
	}
	b := s.e.Server.Backend()
	before := b.Size()

	rule := defragRule{minBytes: 1 << 20, freeShare: 0.25}
	last := s.settle(ctx, start, 5, rule)
	if last <= rev {
		t.Fatalf("settled at %d, want after the burst's last revision %d (its own write)", last, rev)
	}
	if _, err := c.Get(ctx, "k", clientv3.WithRev(rev-10)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Errorf("read 10 revisions back: %v, want them compacted", err)
	}
	got, err := c.Get(ctx, "k")
	if err != nil || len(got.Kvs) != 1 || !strings.HasPrefix(string(got.Kvs[0].Value), "199") {
		t.Fatalf("the latest value after settling: %v, %v", got, err)
	}
	after := b.Size()
	if after > before/2 {
		t.Errorf("file of %d bytes after settling, %d before: want it rewritten without the burst's old values", after, before)
	}
	if n := strings.Count(logged.String(), "rewrote the file"); n != 1 {
		t.Errorf("the file was rewritten %d times, want once:\n%s", n, logged.String())
	}
	if n := strings.Count(logged.String(), `msg="`+SettledMessage+`"`); n != 1 {
		t.Errorf("%d lines say the server settled, want one (load tests wait for it):\n%s", n, logged.String())
	}
	t.Logf("etcd file %d → %d bytes after the burst settled", before, after)

	if again := s.settle(ctx, last, 5, rule); again != last {
		t.Errorf("settled again at %d with nothing written since %d", again, last)
	}
	if n := strings.Count(logged.String(), "rewrote the file"); n != 1 {
		t.Errorf("settling with nothing written rewrote the file again (%d rewrites)", n)
	}
	if n := strings.Count(logged.String(), `msg="`+SettledMessage+`"`); n != 1 {
		t.Errorf("settling with nothing written said it settled again (%d lines)", n)
	}
}

// startWithClient starts an embedded etcd in a directory of the test's,
// logging to w, and a client of it; both end with the test.
func startWithClient(t *testing.T, w io.Writer) (*Server, *clientv3.Client) {
	t.Helper()
	s, err := Start(context.Background(), Config{Dir: filepath.Join(t.TempDir(), "etcd"), UnsafeNoFsync: true, Logger: slog.New(slog.NewTextHandler(w, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	c, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), TLS: s.ClientTLS(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return s, c
}
