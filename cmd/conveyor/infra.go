package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/conveyor/conveyor/adapters/etcdserver"
	"github.com/conveyor/conveyor/adapters/natsserver"
	"github.com/conveyor/conveyor/sdk"
	"github.com/nats-io/nats.go"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// infra is the connection to NATS and etcd, and the embedded servers behind
// them when there are any.
type infra struct {
	nc            *nats.Conn
	etcd          *clientv3.Client
	natsURL       string // for drivers
	etcdEndpoints []string
	etcdUser      string
	etcdPassword  string
	embNATS       *natsserver.Server
	embEtcd       *etcdserver.Server
	embedded      []string
}

// startInfra embeds NATS unless cfg.NATSURL is set and etcd unless
// cfg.EtcdEndpoints is set, starting both at once, then connects to them.
// gate, when not nil, authenticates the embedded NATS's clients.
func startInfra(ctx context.Context, cfg serverConfig, gate natsserver.Authenticator, log *slog.Logger) (*infra, error) {
	in := &infra{natsURL: cfg.NATSURL}
	endpoints, user, password := etcdCredentials(cfg.EtcdEndpoints)
	in.etcdUser, in.etcdPassword = user, password
	natsTLS, err := serverTLS("nats-tls-cert", cfg.NATSTLSCert, cfg.NATSTLSKey)
	if err != nil {
		return nil, err
	}
	g, gctx := errgroup.WithContext(ctx)
	if cfg.NATSURL == "" {
		g.Go(func() error {
			s, err := natsserver.Start(gctx, natsserver.Config{
				Listen: cfg.NATSListen, StoreDir: filepath.Join(cfg.DataDir, "nats"),
				SyncAlways: cfg.SyncAlways, Logger: log.With("component", "nats"), TLS: natsTLS, Authenticate: gate,
			})
			in.embNATS = s
			return addressTaken(err, "nats-listen", cfg.NATSListen)
		})
	}
	if len(cfg.EtcdEndpoints) == 0 {
		g.Go(func() error {
			s, err := etcdserver.Start(gctx, etcdserver.Config{Dir: filepath.Join(cfg.DataDir, "etcd"), Logger: log.With("component", "etcd"),
				Settled: handBackMemory})
			in.embEtcd = s
			return err
		})
	}
	err = g.Wait()
	if in.embNATS != nil {
		in.natsURL = in.embNATS.ClientURL()
		in.embedded = append(in.embedded, "nats")
	}
	if in.embEtcd != nil {
		endpoints = in.embEtcd.Endpoints()
		in.embedded = append(in.embedded, "etcd")
	}
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("start embedded servers: %w", err)
	}
	in.etcdEndpoints = endpoints
	if err := in.connect(ctx, endpoints, cfg.EtcdUser, log); err != nil {
		in.Close()
		return nil, err
	}
	return in, nil
}

func (in *infra) connect(ctx context.Context, endpoints []string, etcdUser string, log *slog.Logger) error {
	opts := []nats.Option{nats.Name("conveyor-server"), nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { log.Info("nats reconnected") }),
	}
	var err error
	if in.embNATS != nil {
		in.nc, err = in.embNATS.Connect(opts...)
	} else {
		in.nc, err = nats.Connect(in.natsURL, append(opts, nats.RetryOnFailedConnect(false), nats.Timeout(5*time.Second))...)
	}
	if err != nil {
		return fmt.Errorf("connect to nats %s: %w", sdk.RedactURL(in.natsURL), err)
	}
	if etcdUser != "" { // --etcd-user wins over credentials in the endpoints
		in.etcdUser, in.etcdPassword, _ = strings.Cut(etcdUser, ":")
	}
	etcdCfg := clientv3.Config{Endpoints: endpoints, Username: in.etcdUser, Password: in.etcdPassword,
		DialTimeout: 5 * time.Second, Context: ctx, Logger: zap.NewNop()}
	if in.embEtcd != nil { // it takes only clients with its certificate
		etcdCfg.TLS = in.embEtcd.ClientTLS()
	}
	in.etcd, err = clientv3.New(etcdCfg)
	if err != nil {
		return fmt.Errorf("connect to etcd %v: %w", endpoints, err)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := in.etcd.Status(sctx, endpoints[0]); err != nil {
		return fmt.Errorf("etcd %v does not answer: %w", endpoints, err)
	}
	return nil
}

// newConn opens one more NATS connection, for a consumer that owns it.
func (in *infra) newConn() (*nats.Conn, error) {
	if in.embNATS != nil {
		return in.embNATS.Connect(nats.Name("conveyor-consumer"))
	}
	return nats.Connect(in.natsURL, nats.Name("conveyor-consumer"), nats.MaxReconnects(-1))
}

// watch returns the error an embedded server fails with while serving, or
// nil once ctx ends: a failed NATS or etcd ends the server, in order,
// rather than leaving it up without its store.
func (in *infra) watch(ctx context.Context) error {
	var natsFailed, etcdFailed <-chan error // nil: nothing embedded, never ready
	if in.embNATS != nil {
		natsFailed = in.embNATS.Err()
	}
	if in.embEtcd != nil {
		etcdFailed = in.embEtcd.Err()
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-natsFailed:
		return fmt.Errorf("embedded nats failed: %w", err)
	case err := <-etcdFailed:
		return fmt.Errorf("embedded etcd failed: %w", err)
	}
}

// revoked closes the embedded NATS's connections of a revoked token; the
// token no longer authenticates, so they cannot come back.
func (in *infra) revoked(token string) {
	if in.embNATS != nil {
		in.embNATS.Disconnect(natsUser(token))
	}
}

// checkNATS is the readiness probe of NATS.
func (in *infra) checkNATS(ctx context.Context) error {
	if !in.nc.IsConnected() {
		return errors.New("not connected")
	}
	return in.nc.FlushWithContext(ctx)
}

// checkEtcd is the readiness probe of etcd.
func (in *infra) checkEtcd(ctx context.Context) error {
	_, err := in.etcd.Get(ctx, "health-probe", clientv3.WithCountOnly())
	return err
}

// Close drains the NATS connection, closes the etcd client, and only then
// stops the embedded servers: clients first, so that nothing in flight is
// cut off by its server going away.
func (in *infra) Close() {
	if in.nc != nil {
		_ = in.nc.Drain()
		in.nc.Close()
	}
	if in.etcd != nil {
		_ = in.etcd.Close()
	}
	if in.embNATS != nil {
		in.embNATS.Close()
	}
	if in.embEtcd != nil {
		in.embEtcd.Close()
	}
}
