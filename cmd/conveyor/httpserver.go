package main

import (
	"cmp"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Defaults of the API's connection handling; see serverConfig.
const (
	defaultIdleTimeout = 2 * time.Minute
	defaultReadTimeout = time.Minute
	// headerTimeout bounds how long a client may take to send a request's
	// headers.
	headerTimeout = 10 * time.Second
)

// newHTTPServer is the API's server: headers and bodies must arrive in
// time, an idle keep-alive connection is closed after cfg.IdleTimeout, and
// the logger gets net/http's own errors (such as failing to accept for want
// of descriptors, which it retries).
//
// The read timeout ends once a request's body is read: net/http lifts the
// connection's read deadline when it starts watching for the client going
// away (and Hijack clears it), so a slow handler, a server-sent event
// stream and a WebSocket outlive it; TestBodyDeadline holds net/http to
// that. There is no write timeout: streams bound their own writes.
func newHTTPServer(cfg serverConfig, h http.Handler, tlsConfig *tls.Config, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           refuseOverLimit(h),
		ReadHeaderTimeout: headerTimeout,
		ReadTimeout:       cmp.Or(cfg.ReadTimeout, defaultReadTimeout),
		IdleTimeout:       cmp.Or(cfg.IdleTimeout, defaultIdleTimeout),
		TLSConfig:         tlsConfig,
		ConnContext:       markRefused,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
}

// maxConnections is cfg.MaxConnections, or, when that is 0, as many as the
// descriptor limit allows once the embedded servers and the data files
// have their share (reserveDescriptors).
func maxConnections(cfg serverConfig) int {
	if cfg.MaxConnections > 0 {
		return cfg.MaxConnections
	}
	limit := descriptorLimit()
	if limit == 0 {
		return 4096
	}
	budget := limit - reserveDescriptors(limit)
	return max(16, budget-spareConnections(budget))
}

// reserveDescriptors is what the process keeps for everything but the
// API's connections: the embedded etcd's and NATS's files and sockets,
// drivers' NATS connections, logs. An idle server uses about 25.
func reserveDescriptors(limit int) int { return min(512, limit/2) }

// listenAPI listens on cfg.Addr, limited to maxConnections(cfg); it warns,
// at most once a minute, when connections are refused.
func listenAPI(cfg serverConfig, log *slog.Logger) (net.Listener, int, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, 0, err
	}
	n := maxConnections(cfg)
	l := newLimitListener(ln, n)
	var lastWarned atomic.Int64
	l.atLimit = func() {
		now := time.Now().UnixNano()
		if last := lastWarned.Load(); now-last >= int64(time.Minute) && lastWarned.CompareAndSwap(last, now) {
			log.Warn("API connections at the limit: new ones are answered 503 until some close", "max_connections", n)
		}
	}
	return l, n, nil
}
