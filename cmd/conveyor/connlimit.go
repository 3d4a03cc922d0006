package main

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// limitListener bounds the API's open connections, so that clients, idle
// or not, cannot take the descriptors the embedded etcd and NATS need.
//
// Up to max connections are served. The next few (spareConnections) are
// accepted only to be answered 503 with Retry-After and closed. Beyond
// those, Accept waits: new connections queue in the kernel's listen backlog,
// unanswered, and are served as others close (an idle one closes after the
// idle timeout). Safe for concurrent use.
type limitListener struct {
	net.Listener
	served    chan struct{} // one token per connection being served
	spare     chan struct{} // one token per connection being refused
	done      chan struct{}
	closeOnce sync.Once
	// atLimit, if not nil, is called when a connection is refused.
	atLimit func()
}

// spareConnections is how many connections beyond max are answered 503
// at once.
func spareConnections(served int) int { return min(64, max(1, served/8)) }

// refusalDeadline bounds how long a connection that is refused may take to
// send its request and read the answer.
const refusalDeadline = 5 * time.Second

func newLimitListener(ln net.Listener, served int) *limitListener {
	return &limitListener{Listener: ln, served: make(chan struct{}, served),
		spare: make(chan struct{}, spareConnections(served)), done: make(chan struct{})}
}

// Accept waits for a free place, then for a connection. A connection that
// takes a spare place is marked to be refused (see refused).
func (l *limitListener) Accept() (net.Conn, error) {
	slot, err := l.acquire()
	if err != nil {
		return nil, err
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-slot
		return nil, err
	}
	if slot == l.spare {
		select {
		case l.served <- struct{}{}: // a served connection closed meanwhile
			<-l.spare
			slot = l.served
		default:
			_ = c.SetDeadline(time.Now().Add(refusalDeadline))
			if l.atLimit != nil {
				l.atLimit()
			}
			return &limitedConn{Conn: c, slot: slot, refuse: true}, nil
		}
	}
	return &limitedConn{Conn: c, slot: slot}, nil
}

// acquire takes a place to serve, else a spare one, else waits for either.
func (l *limitListener) acquire() (chan struct{}, error) {
	select {
	case l.served <- struct{}{}:
		return l.served, nil
	default:
	}
	select {
	case l.served <- struct{}{}:
		return l.served, nil
	case l.spare <- struct{}{}:
		return l.spare, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; connections already accepted stay open.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitedConn gives its place back when it closes, also once hijacked by a
// WebSocket.
type limitedConn struct {
	net.Conn
	slot      chan struct{}
	refuse    bool
	closeOnce sync.Once
}

func (c *limitedConn) Close() error {
	c.closeOnce.Do(func() { <-c.slot })
	return c.Conn.Close()
}

type refusedKey struct{}

// markRefused is the http.Server's ConnContext: it notes in the context of
// a connection's requests that the connection is to be refused.
func markRefused(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if lc, ok := c.(*limitedConn); ok && lc.refuse {
		return context.WithValue(ctx, refusedKey{}, true)
	}
	return ctx
}

// refuseOverLimit answers 503 on a connection taken beyond the limit, and
// closes it.
func refuseOverLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(refusedKey{}) == nil {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Connection", "close")
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"title":"Service Unavailable","status":503,"detail":"too many connections; nothing was done; retry later"}` + "\n"))
	})
}
