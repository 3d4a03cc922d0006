package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/danielgtaylor/huma/v2"
)

type credentialsInput struct {
	Name   string `path:"name" doc:"the driver's name, as its steps and its consumer name it"`
	Rotate bool   `query:"rotate" doc:"revoke the driver's token, if any, and issue a new one"`
}

type credentialsOutput struct {
	Body struct {
		Name  string `json:"name"`
		Token string `json:"token" doc:"the driver's token: shown this once, stored only hashed"`
		// NATSURL is the NATS address for the driver with the token in it.
		NATSURL string `json:"natsUrl" doc:"nats://TOKEN@host:port: give it to the driver as CONVEYOR_NATS_URL"`
	}
}

// registerCredentials serves POST /drivers/{name}/credentials: a token of
// role driver named after the driver, and the NATS URL that carries it.
func (s *Server) registerCredentials() {
	op := s.op(http.MethodPost, "/drivers/{name}/credentials", "create-driver-credentials",
		"Issue a driver's credentials: a driver token and the NATS URL that carries it",
		"Issues a driver token named after the driver and the NATS URL that carries it. A driver that has credentials already is a 409 unless `rotate` revokes them first. A server on an external NATS answers 409: that cluster's configuration holds the drivers' identities.", "drivers")
	op.DefaultStatus = http.StatusCreated
	huma.Register(s.api, op, func(ctx context.Context, in *credentialsInput) (*credentialsOutput, error) {
		if s.cfg.DriverNATSURL == "" {
			return nil, s.problem(ctx, fmt.Errorf("this server uses an external NATS: a driver's NATS identity comes from that cluster's configuration (deploy/nats): %w", domain.ErrConflict))
		}
		if in.Rotate {
			if _, err := s.cmd.RevokeToken(ctx, commands.RevokeToken{Name: in.Name}); err != nil && !errors.Is(err, domain.ErrNotFound) {
				return nil, s.problem(ctx, err)
			}
		}
		tok, secret, err := s.cmd.IssueToken(ctx, commands.IssueToken{Name: in.Name, Role: domain.RoleDriver})
		if errors.Is(err, domain.ErrConflict) {
			err = fmt.Errorf("driver %s has credentials already; rotate to issue new ones (the old ones stop working): %w", in.Name, err)
		}
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		if s.tokens != nil {
			s.applyToken(ctx, tok.Name)
		}
		u, err := url.Parse(s.cfg.DriverNATSURL)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		u.User = url.User(secret)
		out := &credentialsOutput{}
		out.Body.Name, out.Body.Token, out.Body.NATSURL = tok.Name, secret, u.String()
		return out, nil
	})
}
