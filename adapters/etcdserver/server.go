package etcdserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// MaxTxnOps is how many operations the embedded etcd takes in one
// transaction, where etcd's default is 128: a rebuild writes millions of
// keys, and each transaction costs a raft entry, a WAL write and a backend
// commit whatever its size. Its limit on a request's size stays etcd's
// default (1.5 MiB), so that the embedded etcd refuses what a cluster
// refuses. External clusters keep their own limits.
const MaxTxnOps = 4096

// Config configures the embedded etcd server.
type Config struct {
	Dir string // data directory; required
	// ClientURL is e.g. "https://127.0.0.1:2379"; empty picks a free
	// loopback port. Both URLs are served with mutual TLS (tls.go): an
	// "http" scheme is taken as "https".
	ClientURL     string
	PeerURL       string // empty picks a free loopback port
	UnsafeNoFsync bool   // tests only: skip fsync
	// Logger receives etcd's warnings and errors; nil discards them. A
	// fatal error is also reported on Err.
	Logger *slog.Logger
	// Settled, when set, is called each time the server settled after
	// writes stopped (compacted, and rewrote its file if due), before it
	// logs so: the revisions the compaction let go of are garbage from
	// then on.
	Settled func()
}

// Validate reports every setting that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("etcdserver: Dir is required"))
	}
	for name, u := range map[string]string{"ClientURL": c.ClientURL, "PeerURL": c.PeerURL} {
		if u == "" {
			continue
		}
		if _, err := url.Parse(u); err != nil {
			errs = append(errs, fmt.Errorf("etcdserver: %s %q: %w", name, u, err))
		}
	}
	return errors.Join(errs...)
}

// Server is a running single-member embedded etcd.
type Server struct {
	e         *embed.Etcd
	endpoints []string
	clientTLS *tls.Config
	failure   *failure
	closing   chan struct{}
	compacted chan struct{} // closed when the compactor stopped
	quiet     *atomic.Bool  // set by Close: etcd's shutdown is not news
	log       *slog.Logger
	settled   func()
	closeOnce sync.Once
}

// failure holds the first error etcd fails with while serving.
type failure struct {
	once   sync.Once
	errc   chan error // buffered: one error
	failed atomic.Bool
}

func (f *failure) report(err error) {
	if err == nil {
		err = errors.New("stopped serving")
	}
	f.once.Do(func() {
		f.failed.Store(true)
		f.errc <- err
	})
}

// Start starts etcd and returns once it serves clients. Free ports are
// found by binding port 0 and releasing it; another process can take such
// a port before etcd binds it, so a start on ports it chose that fails
// because one is in use is tried again on others, up to three times.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	chosen := cfg.ClientURL == "" || cfg.PeerURL == ""
	for attempt := 1; ; attempt++ {
		s, err := startOn(ctx, cfg)
		if err == nil || !chosen || attempt == freePortAttempts || !inUse(err) {
			return s, err
		}
	}
}

// freePortAttempts is how many sets of free ports Start tries.
const freePortAttempts = 3

// inUse reports whether err is a listener's address being taken.
func inUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

// startOn starts etcd on cfg's URLs, choosing free ports for those unset.
func startOn(ctx context.Context, cfg Config) (*Server, error) {
	var err error
	if cfg.ClientURL == "" {
		if cfg.ClientURL, err = pickFreeURL(); err != nil {
			return nil, err
		}
	}
	if cfg.PeerURL == "" {
		if cfg.PeerURL, err = pickFreeURL(); err != nil {
			return nil, err
		}
	}
	client, peer := secureURL(cfg.ClientURL), secureURL(cfg.PeerURL)
	certs, err := writeCertificates(TLSDir(cfg.Dir), []string{"127.0.0.1", "::1", "localhost", client.Hostname(), peer.Hostname()})
	if err != nil {
		return nil, err
	}
	ec := embed.NewConfig()
	ec.Dir = cfg.Dir
	ec.Name = "conveyor"
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	ec.InitialCluster = ec.Name + "=" + peer.String()
	ec.ClientTLSInfo, ec.PeerTLSInfo = certs.member, certs.member
	// A single member elects itself within a few ticks. Raft ticks go on
	// while the server idles: at 10 ms they were a third of the samples
	// of an idle server's CPU profile; at 50 ms a single member still
	// elects itself at once.
	ec.TickMs, ec.ElectionMs = 50, 250
	// Read models are rewritten all the time (a run at each of its events):
	// the server compacts by the revisions written (compact.go), not by
	// etcd's clock. With five minutes of periodic retention, 700 runs/s
	// piled up a gigabyte of file after 100,000 runs and each compaction
	// stalled the runs of the moment; with one minute, an idle server with
	// that history walked its whole key index every minute (BENCHMARKS.md).
	ec.QuotaBackendBytes = 8 << 30
	// A single member has no follower to catch up: keep few raft entries in
	// memory (each can be a projector batch of up to 1 MiB), where the
	// defaults keep 10,000 and more. 500 and 50 rather than 2,000 and 500
	// took 9 MB off the resident set after 10,000 creates, at no cost in
	// throughput (BENCHMARKS.md).
	ec.SnapshotCount, ec.SnapshotCatchUpEntries = 500, 50
	ec.MaxTxnOps = MaxTxnOps
	// etcd formats a slow request, every operation and value of it, for a
	// warning even when its logger drops warnings: a bulk transaction takes
	// longer than the defaults (100 ms, 300 ms), and the formatting cost a
	// rebuild an eighth of its CPU.
	ec.WarningApplyDuration, ec.WarningUnaryRequestDuration = time.Minute, time.Minute
	ec.UnsafeNoFsync = cfg.UnsafeNoFsync
	fail, quiet := &failure{errc: make(chan error, 1)}, &atomic.Bool{}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(newLogger(cfg.Logger, fail.report, quiet))
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("etcdserver: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		quiet.Store(true)
		e.Close()
		return nil, fmt.Errorf("etcdserver: %w", err)
	case err := <-fail.errc:
		quiet.Store(true)
		closeWithin(e, failedCloseWait)
		return nil, fmt.Errorf("etcdserver: %w", err)
	case <-ctx.Done():
		quiet.Store(true)
		e.Close()
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		quiet.Store(true)
		e.Close()
		return nil, errors.New("etcdserver: not ready within 30s")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	defragIfMostlyFree(e, logger, defragAtStart)
	s := &Server{e: e, endpoints: []string{client.String()}, clientTLS: certs.client, failure: fail, closing: make(chan struct{}), compacted: make(chan struct{}), quiet: quiet, log: logger, settled: cfg.Settled}
	before, after := s.pageOut()
	logger.Debug("etcd: handed back the pages of its file read at start", "resident_before", before, "resident_after", after)
	go s.watch()
	go s.compact()
	return s, nil
}

// watch reports etcd's own errors and its stopping on its own.
func (s *Server) watch() {
	select {
	case err, ok := <-s.e.Err():
		if ok {
			s.failure.report(err)
		}
	case <-s.e.Server.StopNotify():
		select {
		case <-s.closing:
		default:
			s.failure.report(errors.New("stopped on its own"))
		}
	case <-s.closing:
	}
}

// pickFreeURL finds a free port; a test makes it hand out a taken one.
var pickFreeURL = freeURL

func freeURL() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("etcdserver: find a free port: %w", err)
	}
	defer l.Close()
	return "https://" + l.Addr().String(), nil
}

// secureURL is u (validated) with the scheme https.
func secureURL(u string) *url.URL {
	parsed, _ := url.Parse(u)
	parsed.Scheme = "https"
	return parsed
}

// Endpoints are the client URLs.
func (s *Server) Endpoints() []string { return s.endpoints }

// ClientTLS is what a client of this server presents and trusts: without
// it, the server refuses the connection. Do not modify it.
func (s *Server) ClientTLS() *tls.Config { return s.clientTLS }

// Err delivers the error etcd failed with while serving: an error of its
// listeners, a fatal error it logged, or its stopping on its own. It
// delivers at most one, and nothing after Close.
func (s *Server) Err() <-chan error { return s.failure.errc }

// failedCloseWait bounds Close after etcd failed: the goroutine that failed
// is gone, and etcd's shutdown may wait for it forever.
const failedCloseWait = 10 * time.Second

// Close stops etcd and blocks until it has stopped, or, once etcd has
// failed, for at most failedCloseWait. Close clients first, so their calls
// are not cut off. Safe to call twice.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.compacted
		s.quiet.Store(true)
		s.failure.once.Do(func() {}) // no failure reported from now on
		wait := time.Duration(0)
		if s.failure.failed.Load() {
			wait = failedCloseWait
		}
		closeWithin(s.e, wait)
	})
}

// closeWithin closes e, waiting at most wait for it when wait > 0.
func closeWithin(e *embed.Etcd, wait time.Duration) {
	if wait <= 0 {
		e.Close()
		return
	}
	done := make(chan struct{})
	go func() { e.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
	}
}
