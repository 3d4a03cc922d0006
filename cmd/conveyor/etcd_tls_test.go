package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Issue 23, item 7: with etcdctl on the embedded etcd's loopback port, a
// run was rewritten from succeeded to failed and the API served it. A
// client without the certificate the server wrote into its data directory
// is refused now, on https and on plain http alike; the server and a
// client with the certificate work as before.
func TestTheEmbeddedEtcdRefusesAClientWithoutItsCertificate(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	before := s.settle()

	endpoint := s.at.Etcd[0]
	if !strings.HasPrefix(endpoint, "https://") {
		t.Fatalf("the embedded etcd serves %s, want TLS", endpoint)
	}
	for _, e := range []string{endpoint, "http://" + strings.TrimPrefix(endpoint, "https://")} {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{e}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			continue // refused at the dial
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if _, err := c.Put(ctx, s.cfg.EtcdPrefix+"/g1/resource-definitions/build", `{"tampered":true}`); err == nil {
			t.Errorf("%s: a client without the certificate wrote the read model", e)
		}
		if _, err := c.Get(ctx, s.cfg.EtcdPrefix+"/", clientv3.WithPrefix()); err == nil {
			t.Errorf("%s: a client without the certificate read the read model", e)
		}
		cancel()
		_ = c.Close()
	}
	s.unchanged(before, "clients without the certificate")
	s.must(http.StatusOK, "GET", "/resource-definitions/build", nil)
	s.must(http.StatusOK, "GET", "/ready", nil)
}
