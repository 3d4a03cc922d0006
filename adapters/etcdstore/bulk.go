package etcdstore

import "github.com/conveyor/conveyor/adapters/etcdserver"

// BulkLimits bound the transactions of a bulk write (WriteAll): how many
// operations and request bytes one may hold, and how many may be in flight
// at once. etcd commits concurrent transactions together (one raft entry
// batch, one fsync), which one transaction at a time never lets it do.
type BulkLimits struct {
	Ops      int
	Bytes    int
	InFlight int
}

// DefaultBulkLimits stay within etcd's default limits (128 operations and
// 1.5 MiB per request), which any cluster has unless its operator raised
// them.
var DefaultBulkLimits = BulkLimits{Ops: 128, Bytes: 1 << 20, InFlight: 8}

// EmbeddedBulkLimits fill the embedded etcd's larger transactions
// (etcdserver.MaxTxnOps operations, the default request size).
var EmbeddedBulkLimits = BulkLimits{Ops: etcdserver.MaxTxnOps, Bytes: 1 << 20, InFlight: 8}

// SetBulkLimits makes WriteAll use l, for an etcd known to accept larger
// transactions (the embedded one); a zero field keeps its default. Call it
// before the store is used.
func (s *Store) SetBulkLimits(l BulkLimits) { s.bulk = l }

func (s *Store) bulkLimits() BulkLimits {
	l := s.bulk
	if l.Ops <= 0 {
		l.Ops = DefaultBulkLimits.Ops
	}
	if l.Bytes <= 0 {
		l.Bytes = DefaultBulkLimits.Bytes
	}
	if l.InFlight <= 0 {
		l.InFlight = DefaultBulkLimits.InFlight
	}
	return l
}
