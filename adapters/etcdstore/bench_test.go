package etcdstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/etcdserver"
	"github.com/conveyor/conveyor/projections"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// BenchmarkWriteAll writes 100,000 keys of 500 bytes into a new generation
// of an embedded etcd that syncs to disk, as a rebuild does, with etcd's
// default transaction limits and with the embedded server's; keys/s is the
// figure to compare.
func BenchmarkWriteAll(b *testing.B) {
	for _, tc := range []struct {
		name   string
		limits BulkLimits
	}{
		{"default", DefaultBulkLimits},
		{"embedded", EmbeddedBulkLimits},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := benchStore(b)
			s.SetBulkLimits(tc.limits)
			ops := make([]projections.Op, 100000)
			value := []byte(strings.Repeat("x", 500))
			for i := range ops {
				ops[i] = projections.Op{Key: fmt.Sprintf("resources/t/r-%07d", i), Value: value}
			}
			b.ResetTimer()
			for i := range b.N {
				if err := s.WriteAll(context.Background(), i+2, ops); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(ops)*b.N)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}

// benchStore is a store on an embedded etcd that syncs, as a server's does.
func benchStore(b *testing.B) *Store {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := etcdserver.Start(ctx, etcdserver.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	c, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), TLS: srv.ClientTLS(), Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	s, err := Open(b.Context(), c, "/cv")
	if err != nil {
		b.Fatal(err)
	}
	return s
}
