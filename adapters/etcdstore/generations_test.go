package etcdstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/projections"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// A generation is written in bulk, deletes too, and dropped a chunk at a
// time, every key of it and nothing else: not the generations beside it, not
// a key that merely shares its first characters.
func TestDropRemovesTheGenerationInChunks(t *testing.T) {
	c := embedtest.Etcd(t)
	ctx := context.Background()
	s, err := Open(ctx, c, "/cv")
	if err != nil {
		t.Fatal(err)
	}
	defer func(old int64) { dropChunk = old }(dropChunk)
	dropChunk = 10
	var puts []projections.Op
	for i := range 96 {
		puts = append(puts, projections.Op{Key: fmt.Sprintf("resources/t/r-%03d", i), Value: []byte(`{}`)})
	}
	for _, gen := range []int{2, 3} {
		if err := s.WriteAll(ctx, gen, puts); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteAll(ctx, 3, []projections.Op{{Key: "resources/t/r-095", Delete: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "/cv/g2x", "beside"); err != nil {
		t.Fatal(err)
	}
	if err := s.Drop(ctx, 2); err != nil {
		t.Fatal(err)
	}
	count := func(prefix string) int64 {
		resp, err := c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Count
	}
	if n := count("/cv/g2/"); n != 0 {
		t.Errorf("%d keys of generation 2 left", n)
	}
	if n := count("/cv/g3/"); n != 95 {
		t.Errorf("generation 3 holds %d keys, want 95", n)
	}
	if n := count("/cv/g2x"); n != 1 {
		t.Errorf("a key beside the generation was deleted")
	}
}
