package natsserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Config configures the embedded NATS server.
type Config struct {
	// Listen is host:port for TCP clients (drivers); port 0 picks a free one.
	// Default "127.0.0.1:4222".
	Listen string
	// StoreDir is the JetStream file store directory. Required.
	StoreDir string
	// SyncAlways fsyncs every write: survives a power loss, much slower.
	SyncAlways bool
	// Logger receives the server's logs; nil discards them. A fatal error
	// is also reported on Err.
	Logger *slog.Logger
	// TLS, when set, is required of TCP clients (drivers), and ClientURL
	// says tls://. In-process connections need none.
	TLS *tls.Config
	// Authenticate, when set, makes every client authenticate (a token, or
	// a user and password) and gives it the rights of its Identity; nil lets anyone connect with
	// every right (open mode). The server's own connections (Connect) hold
	// a secret made at Start and kept in memory only.
	Authenticate Authenticator
}

// Validate reports every setting that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.StoreDir == "" {
		errs = append(errs, errors.New("natsserver: StoreDir is required"))
	}
	if c.Listen != "" {
		if _, port, err := net.SplitHostPort(c.Listen); err != nil {
			errs = append(errs, fmt.Errorf("natsserver: Listen %q is not host:port", c.Listen))
		} else if _, err := strconv.Atoi(port); err != nil {
			errs = append(errs, fmt.Errorf("natsserver: Listen %q has no numeric port", c.Listen))
		}
	}
	return errors.Join(errs...)
}

// Server is a running embedded NATS server with JetStream.
type Server struct {
	ns        *server.Server
	auth      *auth // nil in open mode
	failure   *failure
	closing   chan struct{}
	closeOnce sync.Once
}

// failure holds the first error the server fails with while serving.
type failure struct {
	once sync.Once
	errc chan error // buffered: one error
}

func (f *failure) report(err error) { f.once.Do(func() { f.errc <- err }) }

// Start starts the server and returns once it accepts connections.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:4222"
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, portText, _ := net.SplitHostPort(cfg.Listen)
	port, _ := strconv.Atoi(portText)
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if port != server.RANDOM_PORT {
		// nats-server logs a taken port and keeps trying; ask first, so
		// that a taken port is an error at once, not after the deadline.
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("natsserver: %w", err)
		}
		_ = ln.Close()
	}
	opts := &server.Options{
		Host: host, Port: port, JetStream: true, StoreDir: cfg.StoreDir, SyncAlways: cfg.SyncAlways,
		NoSigs: true, MaxPayload: 8 << 20, TLSConfig: cfg.TLS,
	}
	var a *auth
	if cfg.Authenticate != nil {
		a = newAuth(cfg.Authenticate)
		opts.CustomClientAuthentication = a
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsserver: %w", err)
	}
	if a != nil {
		a.accounts = newAccounts(ns)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fail := &failure{errc: make(chan error, 1)}
	ns.SetLoggerV2(&logger{log: log, fatal: fail.report}, false, false, false)
	go ns.Start()
	deadline := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		deadline = time.Until(d)
	}
	if !ns.ReadyForConnections(deadline) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("natsserver: not ready for connections on %s within %v", cfg.Listen, deadline)
	}
	s := &Server{ns: ns, auth: a, failure: fail, closing: make(chan struct{})}
	go s.watch()
	return s, nil
}

// watch reports the server shutting down on its own.
func (s *Server) watch() {
	s.ns.WaitForShutdown()
	select {
	case <-s.closing:
	default:
		s.failure.report(errors.New("shut down on its own"))
	}
}

// Err delivers the error the server failed with while serving: a fatal
// error it logged, or its shutting down on its own. It delivers at most
// one, and nothing after Close.
func (s *Server) Err() <-chan error { return s.failure.errc }

// ClientURL is the nats:// (with TLS, tls://) URL the server actually
// listens on, with no credentials in it.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Connect opens an in-process connection, faster than TCP, with every
// right.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	if s.auth != nil {
		opts = append(opts, nats.Token(s.auth.secret))
	}
	return nats.Connect("", append(opts, nats.InProcessServer(s.ns))...)
}

// Disconnect closes every connection of the identity named name, for
// instance once its token is revoked; reconnecting then needs credentials
// that still authenticate. It returns how many it closed.
func (s *Server) Disconnect(name string) int {
	conns, err := s.ns.Connz(&server.ConnzOptions{User: name, Username: true, Limit: 1 << 16})
	if err != nil {
		return 0
	}
	n := 0
	for _, c := range conns.Conns {
		if c.AuthorizedUser == name && s.ns.DisconnectClientByID(c.Cid) == nil {
			n++
		}
	}
	return n
}

// Close shuts the server down and waits until it has stopped. Close clients
// first. Safe to call twice.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.failure.once.Do(func() {}) // no failure reported from now on
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	})
}

// logger bridges the server's logs into slog, and reports its fatal errors.
type logger struct {
	log   *slog.Logger
	fatal func(error)
}

func (l *logger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *logger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }

func (l *logger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg)
	l.fatal(errors.New(msg))
}

func (l *logger) Errorf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *logger) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *logger) Tracef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
