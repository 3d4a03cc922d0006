package etcdserver

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// TestAStartRewritesAFileOfMostlyFreePages: after a burst whose keys were
// deleted and compacted, etcd's file is mostly free pages; the next start
// rewrites it without them (and says so), and the keys that remain are
// still there. A start on a file mostly in use leaves it alone.
func TestAStartRewritesAFileOfMostlyFreePages(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "etcd")
	var logged bytes.Buffer
	start := func() (*Server, *clientv3.Client) {
		s, err := Start(ctx, Config{Dir: dir, UnsafeNoFsync: true, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		if err != nil {
			t.Fatal(err)
		}
		c, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), TLS: s.ClientTLS(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			s.Close()
			t.Fatal(err)
		}
		return s, c
	}
	fileSize := func() int64 {
		fi, err := os.Stat(filepath.Join(dir, "member", "snap", "db"))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}

	s, c := start()
	value := strings.Repeat("x", 1<<20)
	for i := range 80 {
		if _, err := c.Put(ctx, fmt.Sprintf("burst/%03d", i), value); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Put(ctx, "kept", "yes"); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Delete(ctx, "burst/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	s.Close()
	before := fileSize()
	if before < defragAtStart.minBytes {
		t.Fatalf("file of %d bytes after the burst, want at least %d for the test to mean anything", before, defragAtStart.minBytes)
	}

	s, c = start()
	after := fileSize()
	got, err := c.Get(ctx, "kept")
	_ = c.Close()
	s.Close()
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "yes" {
		t.Fatalf("the key kept through the rewrite: %v, %v", got, err)
	}
	if after > before/4 {
		t.Errorf("file of %d bytes after the start, %d before: want it rewritten without its free pages", after, before)
	}
	if !strings.Contains(logged.String(), "rewrote the file without its free pages") {
		t.Errorf("the rewrite was not logged:\n%s", logged.String())
	}
	t.Logf("etcd file %d → %d bytes at start", before, after)

	logged.Reset()
	s, c = start()
	_ = c.Close()
	s.Close()
	if strings.Contains(logged.String(), "rewrote") {
		t.Errorf("a small file was rewritten again:\n%s", logged.String())
	}
}
