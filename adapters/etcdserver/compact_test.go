package etcdserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
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
	s, err := Start(ctx, Config{Dir: filepath.Join(t.TempDir(), "etcd"), UnsafeNoFsync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	c, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), TLS: s.ClientTLS(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
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
