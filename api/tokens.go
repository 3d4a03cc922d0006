package api

import (
	"context"
	"net/http"
	"time"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/danielgtaylor/huma/v2"
)

type tokenIssueInput struct {
	Body struct {
		Name string      `json:"name" pattern:"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$" patternDescription:"must be 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" doc:"the token's name; one active token per name" example:"ci"`
		Role domain.Role `json:"role" enum:"viewer,driver,operator,admin" doc:"what the token may do" example:"operator"`
	}
}

// TokenView is a token as the API shows it: never its hash. It is exported
// because huma documents the fields of embedded structs only when they are.
type TokenView struct {
	Name string      `json:"name"`
	ID   string      `json:"id"`
	Role domain.Role `json:"role"`
}

type tokenIssued struct {
	TokenView
	Token string `json:"token" doc:"the secret: shown this once, stored only hashed"`
}

type tokenIssueOutput struct {
	Body tokenIssued
}

type tokenListOutput struct {
	Body struct {
		Items []TokenView `json:"items"`
	}
}

type tokenPath struct {
	Name string `path:"name"`
}

type tokenViewOutput struct {
	Body TokenView
}

func viewOf(t domain.Token) TokenView { return TokenView{Name: t.Name, ID: t.ID, Role: t.Role} }

// registerTokens serves /tokens when authentication is on.
func (s *Server) registerTokens() {
	if s.tokens == nil {
		return
	}
	const tag = "tokens"
	create := s.op(http.MethodPost, "/tokens", "create-token", "Issue a token; its secret is in this answer only",
		"Issues an API token of a role. Its secret is in this answer only; the server stores it hashed. An active token of the same name is a 409.", tag)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, func(ctx context.Context, in *tokenIssueInput) (*tokenIssueOutput, error) {
		tok, secret, err := s.cmd.IssueToken(ctx, commands.IssueToken{Name: in.Body.Name, Role: in.Body.Role})
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		s.applyToken(ctx, tok.Name)
		return &tokenIssueOutput{Body: tokenIssued{TokenView: viewOf(tok), Token: secret}}, nil
	})

	huma.Register(s.api, s.op(http.MethodGet, "/tokens", "list-tokens", "The active tokens (never their secrets)",
		"The active tokens: names, ids and roles, never their secrets.", tag),
		func(ctx context.Context, _ *struct{}) (*tokenListOutput, error) {
			out := &tokenListOutput{}
			out.Body.Items = []TokenView{}
			for _, t := range s.tokens.Active() {
				out.Body.Items = append(out.Body.Items, viewOf(t))
			}
			return out, nil
		})

	huma.Register(s.api, s.op(http.MethodDelete, "/tokens/{name}", "revoke-token", "Revoke a token: it authenticates no one from now on",
		"Revokes the token of that name: it authenticates no one from now on.", tag),
		func(ctx context.Context, in *tokenPath) (*tokenViewOutput, error) {
			tok, err := s.cmd.RevokeToken(ctx, commands.RevokeToken{Name: in.Name})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			s.applyToken(ctx, in.Name)
			return &tokenViewOutput{Body: viewOf(tok)}, nil
		})
}

// applyToken brings this server's token table up to what it just wrote, so
// that the next request sees the change without waiting for the log's
// follower; the follower brings the other replicas within moments.
func (s *Server) applyToken(ctx context.Context, name string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	events, err := s.events.Load(ctx, domain.AggregateToken, name)
	if err != nil {
		s.log.WarnContext(ctx, "token table: reading the token back", "token", name, "err", err)
		return
	}
	for _, e := range events {
		s.tokens.Apply(e)
	}
	s.sweepStreams() // a revoked token's streams end now, not at the next tick
}
