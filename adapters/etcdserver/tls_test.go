package etcdserver

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Any process on the machine can reach the embedded etcd's loopback ports;
// only a client with the certificate the server made may read or write,
// and the peer port takes nobody without one either.
func TestAClientWithoutTheCertificateIsRefused(t *testing.T) {
	s := start(t, &lines{})
	ctx := context.Background()

	// The attack: a plain client on the client URL, as etcdctl would be.
	for name, cfg := range map[string]*tls.Config{
		"without TLS": nil,
		// TLS that trusts the server but presents no certificate.
		"without a client certificate": {RootCAs: s.ClientTLS().RootCAs, MinVersion: tls.VersionTLS12},
	} {
		t.Run(name, func(t *testing.T) {
			endpoint := s.Endpoints()[0]
			if cfg == nil {
				endpoint = "http://" + strings.TrimPrefix(endpoint, "https://")
			}
			c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, TLS: cfg, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
			if err != nil {
				return // refused at the dial: what is wanted
			}
			defer c.Close()
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if _, err := c.Put(cctx, "/conveyor/g1/runs/r1", `{"status":"failed"}`); err == nil {
				t.Error("a Put without the client certificate was taken")
			}
			if _, err := c.Get(cctx, "/conveyor/", clientv3.WithPrefix()); err == nil {
				t.Error("a Get without the client certificate was answered")
			}
		})
	}

	// The server's own client works, and so does one that loads the files
	// written into the data directory (a test harness, etcdctl).
	own, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), TLS: s.ClientTLS(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	if _, err := own.Put(ctx, "k", "v"); err != nil {
		t.Fatalf("the server's client: %v", err)
	}
	fromFiles, err := ClientTLS(s.e.Config().Dir)
	if err != nil {
		t.Fatal(err)
	}
	other, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), TLS: fromFiles, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if resp, err := other.Get(ctx, "k"); err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("a client with the files of the data directory: %v %v", resp, err)
	}

	// The peer port (raft between members) refuses a connection without a
	// certificate at the handshake.
	peer := s.e.Config().ListenPeerUrls[0]
	plain := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.ClientTLS().RootCAs, MinVersion: tls.VersionTLS12}}}
	if resp, err := plain.Get("https://" + peer.Host + "/members"); err == nil {
		resp.Body.Close()
		t.Errorf("the peer port answered %s without a client certificate", resp.Status)
	}
}

// The certificates are written readable by their owner alone, and the
// authority's key is not written at all; a restart makes a new authority,
// so the files of the last start no longer open the server.
func TestCertificatesAreTheOwnersAndEndWithTheStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	first, err := Start(context.Background(), Config{Dir: dir, UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	old := first.ClientTLS()
	first.Close()

	entries, err := os.ReadDir(TLSDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 0600", e.Name(), mode)
		}
		data, _ := os.ReadFile(filepath.Join(TLSDir(dir), e.Name()))
		if e.Name() != ClientKeyFile && e.Name() != memberKeyFile && strings.Contains(string(data), "PRIVATE KEY") {
			t.Errorf("%s holds a private key", e.Name())
		}
	}
	if info, err := os.Stat(TLSDir(dir)); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("tls directory: %v %v, want mode 0700", info, err)
	}

	second, err := Start(context.Background(), Config{Dir: dir, UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(second.Close)
	stale, err := clientv3.New(clientv3.Config{Endpoints: second.Endpoints(), TLS: old, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err == nil {
		defer stale.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := stale.Get(ctx, "k"); err == nil {
			t.Error("the certificate of the last start still opens the server")
		}
	}
}
