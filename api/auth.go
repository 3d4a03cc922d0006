package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
)

// Authenticator finds the active token a secret belongs to.
type Authenticator interface {
	Authenticate(secret string) (domain.Token, bool)
}

// challenge is the WWW-Authenticate header of a 401.
const challenge = `Bearer realm="conveyor"`

type tokenKey struct{}

// tokenOf is the token that authenticated the request of ctx, if any.
func tokenOf(ctx context.Context) (domain.Token, bool) {
	tok, ok := ctx.Value(tokenKey{}).(domain.Token)
	return tok, ok
}

// authenticate lets a request through when its route is public or its
// bearer token's role allows the route (see accessOf). Without a token, or
// with one that is unknown or revoked, it answers 401 with a challenge; with
// a token whose role does not allow the route, 403. The token becomes the
// actor of every event the request causes. Without an Authenticator every
// request passes.
func (s *Server) authenticate(next http.Handler) http.Handler {
	if s.auth == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		need := s.routeAccess(r)
		if need.public {
			next.ServeHTTP(w, r)
			return
		}
		secret, ok := bearer(r)
		if !ok {
			secret, ok = subprotocolBearer(r)
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", challenge)
			writeProblem(w, http.StatusUnauthorized, "authentication required: send the header Authorization: Bearer TOKEN (conveyor tokens create prints one)")
			return
		}
		tok, ok := s.auth.Authenticate(secret)
		if !ok {
			w.Header().Set("WWW-Authenticate", challenge+`, error="invalid_token"`)
			writeProblem(w, http.StatusUnauthorized, "the token is not valid: unknown or revoked")
			return
		}
		if !tok.Role.Allows(need.role) {
			writeProblem(w, http.StatusForbidden, fmt.Sprintf("token %q has role %s; this needs %s", tok.Name, tok.Role, need.role))
			return
		}
		ctx := context.WithValue(r.Context(), tokenKey{}, tok)
		ctx = commands.WithActor(ctx, domain.Actor{Kind: domain.ActorToken, Name: tok.Name, ID: tok.ID})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// bearer is the token of an Authorization: Bearer header (for a WebSocket
// handshake, see also subprotocolBearer).
func bearer(r *http.Request) (string, bool) {
	scheme, secret, found := strings.Cut(r.Header.Get("Authorization"), " ")
	secret = strings.TrimSpace(secret)
	if !found || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return "", false
	}
	return secret, true
}
