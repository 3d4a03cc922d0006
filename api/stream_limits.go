package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/conveyor/conveyor/domain"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of StreamLimits.
const (
	DefaultMaxStreams         = 1000
	DefaultMaxStreamsPerToken = 100
)

// streamRetryAfter is the Retry-After, in seconds, of a stream refused for
// a limit: streams end when their clients go, so room comes back soon.
const streamRetryAfter = 5

// StreamLimits bound the log and event streams (WebSocket and server-sent
// events) one server serves at once. Each stream costs a bounded amount of
// memory (see streamBufferBytes), so these bound what streams cost in all.
type StreamLimits struct {
	// Max is how many streams the server serves at once; one more is
	// refused with 503 and Retry-After. Zero means DefaultMaxStreams.
	Max int
	// PerToken is how many of them one token may hold; one more is refused
	// with 429 and Retry-After. Zero means DefaultMaxStreamsPerToken.
	// Without authentication only Max applies.
	PerToken int
}

func (l *StreamLimits) setDefaults() {
	if l.Max == 0 {
		l.Max = DefaultMaxStreams
	}
	if l.PerToken == 0 {
		l.PerToken = DefaultMaxStreamsPerToken
	}
}

// Validate reports limits that cannot work.
func (l StreamLimits) Validate() error {
	if l.Max < 0 || l.PerToken < 0 {
		return errors.New("api: stream limits must not be negative")
	}
	return nil
}

// Why a stream is refused or ended before its client goes.
var (
	errStreamsFull    = errors.New("the server serves as many streams as it may; try again later")
	errStreamsOfToken = errors.New("this token holds as many streams as one token may; close one or try again later")
	errTokenWithdrawn = errors.New("token revoked or no longer allowed")
	errClientVanished = errors.New("client did not answer a ping")
	errStreamDone     = errors.New("stream ended")
)

// openStream is one stream being served: the token that opened it (its
// zero value without authentication), what the route needs, and how to end
// it with a reason.
type openStream struct {
	token  domain.Token
	need   domain.Role
	cancel context.CancelCauseFunc
}

// streamRegistry counts the streams being served, refuses those beyond the
// limits, and ends those whose token no longer allows them. Safe for
// concurrent use.
type streamRegistry struct {
	limits  StreamLimits
	mu      sync.Mutex
	byToken map[string]int
	open    map[*openStream]struct{}
}

func newStreamRegistry(limits StreamLimits) *streamRegistry {
	return &streamRegistry{limits: limits, byToken: map[string]int{}, open: map[*openStream]struct{}{}}
}

// admit registers o, or says which limit it is beyond.
func (g *streamRegistry) admit(o *openStream) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	// The token's own limit first: a token beyond it is told so, whoever
	// else fills the server.
	if o.token.ID != "" && g.byToken[o.token.ID] >= g.limits.PerToken {
		return errStreamsOfToken
	}
	if len(g.open) >= g.limits.Max {
		return errStreamsFull
	}
	g.open[o] = struct{}{}
	if o.token.ID != "" {
		g.byToken[o.token.ID]++
	}
	return nil
}

func (g *streamRegistry) release(o *openStream) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.open[o]; !ok {
		return
	}
	delete(g.open, o)
	if o.token.ID == "" {
		return
	}
	if g.byToken[o.token.ID]--; g.byToken[o.token.ID] <= 0 {
		delete(g.byToken, o.token.ID)
	}
}

// sweep ends, with errTokenWithdrawn, every stream whose token current no
// longer knows, or knows with a role that no longer allows the stream.
func (g *streamRegistry) sweep(current func(hash string) (domain.Token, bool)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for o := range g.open {
		if o.token.ID == "" {
			continue
		}
		if tok, ok := current(o.token.Hash); !ok || tok.ID != o.token.ID || !tok.Role.Allows(o.need) {
			o.cancel(errTokenWithdrawn)
		}
	}
}

// sweepStreams ends the streams whose token was revoked or lost the right
// to them; without authentication there is nothing to check.
func (s *Server) sweepStreams() {
	if s.tokens != nil {
		s.streams.sweep(s.tokens.ByHash)
	}
}

// admitted serves a stream with h if the limits allow one more, with a
// context that ends, with the reason as its cause, when the stream must
// end before its client goes (see sweep); otherwise it answers 503 or 429
// with Retry-After, and counts the refusal in refused by limit.
func (s *Server) admitted(refused *prometheus.CounterVec, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(errStreamDone)
		o := &openStream{need: s.routeAccess(r).role, cancel: cancel}
		o.token, _ = tokenOf(r.Context())
		if err := s.streams.admit(o); err != nil {
			w.Header().Set("Retry-After", strconv.Itoa(streamRetryAfter))
			status, limit := http.StatusServiceUnavailable, "server"
			if errors.Is(err, errStreamsOfToken) {
				status, limit = http.StatusTooManyRequests, "token"
			}
			refused.WithLabelValues(limit).Inc()
			writeProblem(w, status, fmt.Sprintf("%v (at most %d streams in all, %d per token)", err, s.streams.limits.Max, s.streams.limits.PerToken))
			return
		}
		defer s.streams.release(o)
		h(w, r.WithContext(ctx))
	}
}
