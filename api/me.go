package api

import (
	"context"
	"net/http"

	"github.com/conveyor/conveyor/domain"

	"github.com/danielgtaylor/huma/v2"
)

// meOutput is GET /me's answer: the token, or with authentication off,
// open and the role every request has.
type meOutput struct {
	Body struct {
		TokenView
		Open bool `json:"open,omitempty" doc:"true when the server runs without authentication (--auth=false): every request may do everything, without a token"`
	}
}

// registerMe serves GET /me: the token the request came with, so that a
// client (the web UI) can offer only what its role may do. The server
// checks every request anyway; this only spares users buttons that would
// answer 403. With authentication off it answers open, so that the UI
// asks for no token.
func (s *Server) registerMe() {
	if s.tokens == nil {
		huma.Register(s.api, s.op(http.MethodGet, "/me", "read-me", "Who this request is: here, no one, as authentication is off",
			"This server runs without authentication: the answer says open, with role admin, what every request may do.", "tokens"),
			func(ctx context.Context, _ *struct{}) (*meOutput, error) {
				out := &meOutput{}
				out.Body.Role, out.Body.Open = domain.RoleAdmin, true
				return out, nil
			})
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
