package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// registerMe serves GET /me: the token the request came with, so that a
// client (the web UI) can offer only what its role may do. The server
// checks every request anyway; this only spares users buttons that would
// answer 403.
func (s *Server) registerMe() {
	if s.tokens == nil {
		return
	}
	huma.Register(s.api, s.op(http.MethodGet, "/me", "read-me", "The token this request came with: its name and role",
		"The name, id and role of the token that authenticated this request (never its secret).", "tokens"),
		func(ctx context.Context, _ *struct{}) (*tokenViewOutput, error) {
			tok, ok := tokenOf(ctx)
			if !ok {
				return nil, huma.Error401Unauthorized("no token came with this request")
			}
			return &tokenViewOutput{Body: viewOf(tok)}, nil
		})
}
