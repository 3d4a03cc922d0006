package etcdstore

import (
	"context"
	"fmt"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// leaseTTL is how long, in seconds, a leader that died unannounced keeps
// its role before another server takes it over.
const leaseTTL = 3

// Lead campaigns for role among the servers that share this store's base
// prefix and returns once this one holds it, with a context that ends when
// it no longer does (its lease lapsed, or ctx ended); the role is then given
// up. Only one server holds a role at a time.
func (s *Store) Lead(ctx context.Context, role string) (context.Context, error) {
	sess, err := concurrency.NewSession(s.c, concurrency.WithTTL(leaseTTL), concurrency.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("campaign for %s: %w", role, unavailable(err))
	}
	host, _ := os.Hostname()
	el := concurrency.NewElection(sess, s.base+"/leaders/"+role)
	if err := el.Campaign(clientv3.WithRequireLeader(ctx), fmt.Sprintf("%s/%d", host, os.Getpid())); err != nil {
		_ = sess.Close()
		return nil, fmt.Errorf("campaign for %s: %w", role, unavailable(err))
	}
	lctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-sess.Done():
		case <-lctx.Done():
		}
		cancel()
		rctx, rcancel := context.WithTimeout(context.Background(), time.Second)
		defer rcancel()
		_ = el.Resign(rctx)
		_ = sess.Close()
	}()
	return lctx, nil
}
