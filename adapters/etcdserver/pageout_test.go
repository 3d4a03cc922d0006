package etcdserver

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestPagesOfTheFileGoBackAndReadsBringThemIn: the pages of etcd's file
// leave the resident set when the server hands them back, and every value
// still reads as written.
func TestPagesOfTheFileGoBackAndReadsBringThemIn(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the pages are handed back on Linux only")
	}
	ctx := context.Background()
	var logged bytes.Buffer
	s, c := startWithClient(t, &logged)
	value := strings.Repeat("v", 32<<10)
	for i := range 300 {
		if _, err := c.Put(ctx, fmt.Sprintf("k%03d", i), fmt.Sprintf("%03d%s", i, value)); err != nil {
			t.Fatal(err)
		}
	}
	s.e.Server.Backend().ForceCommit()
	path, err := filepath.EvalSymlinks(s.e.Server.Cfg.BackendPath())
	if err != nil {
		t.Fatal(err)
	}
	if m, err := mappingOf(path); err != nil || len(m.ranges) == 0 {
		t.Fatalf("the maps of the process name %s in %d ranges (%v), want at least one", path, len(m.ranges), err)
	}
	// etcd reads the file in at open; pages written since are in the
	// resident set once read.
	readAll := func() {
		t.Helper()
		for i := range 300 {
			got, err := c.Get(ctx, fmt.Sprintf("k%03d", i))
			if err != nil || len(got.Kvs) != 1 || !strings.HasPrefix(string(got.Kvs[0].Value), fmt.Sprintf("%03d", i)) || len(got.Kvs[0].Value) != len(value)+3 {
				t.Fatalf("k%03d: %v, %v", i, got, err)
			}
		}
	}
	readAll()
	before, after := s.pageOut()
	if before < 1<<20 {
		t.Fatalf("%d bytes of the file resident before, want the file read in", before)
	}
	if after > before/4 {
		t.Errorf("%d bytes of the file resident after handing them back, %d before: want most gone", after, before)
	}
	t.Logf("resident pages of etcd's file: %d → %d bytes", before, after)

	readAll()
	if now, _ := mappingOf(path); now.resident <= after {
		t.Errorf("%d bytes resident after reading every value, %d before: want the reads to bring pages in", now.resident, after)
	}
}
