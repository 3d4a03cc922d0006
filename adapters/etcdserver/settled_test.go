package etcdserver

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Once settled, the server is told, once, before the line that says so
// (load tests read the steady state once it is logged), and every key
// still reads back as written.
func TestSettledIsToldOnceBeforeTheLine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var logged bytes.Buffer
	s, c := startWithClient(t, &logged)
	start := s.e.Server.KV().Rev()
	for i := range 100 {
		for v := range 3 {
			if _, err := c.Put(ctx, fmt.Sprintf("runs/%03d", i), fmt.Sprintf("%d-%d", i, v)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var toldBeforeTheLine []bool
	s.settled = func() {
		toldBeforeTheLine = append(toldBeforeTheLine, !strings.Contains(logged.String(), SettledMessage))
	}
	last := s.settle(ctx, start, 5, defragRule{minBytes: 1 << 40})
	if len(toldBeforeTheLine) != 1 || !toldBeforeTheLine[0] {
		t.Errorf("Settled was called %d times (before the settled line: %v), want once, before it", len(toldBeforeTheLine), toldBeforeTheLine)
	}
	got, err := c.Get(ctx, "runs/", clientv3.WithPrefix())
	if err != nil || len(got.Kvs) != 100 {
		t.Fatalf("after settling: %d keys, %v; want 100", len(got.Kvs), err)
	}
	for i, kv := range got.Kvs {
		if string(kv.Value) != fmt.Sprintf("%d-2", i) {
			t.Fatalf("key %s after settling holds %s, want %d-2", kv.Key, kv.Value, i)
		}
	}
	if again := s.settle(ctx, last, 5, defragRule{minBytes: 1 << 40}); again != last || len(toldBeforeTheLine) != 1 {
		t.Errorf("settling with nothing written: at %d (want %d), told %d times (want still once)", again, last, len(toldBeforeTheLine))
	}
}
