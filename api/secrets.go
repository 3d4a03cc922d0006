package api

import (
	"context"
	"net/http"
	"time"

	"github.com/conveyor/conveyor/commands"
	"github.com/danielgtaylor/huma/v2"
)

// SecretEntry is a secret as the API lists it: its name and when its value
// last changed, never the value.
type SecretEntry struct {
	Name      string    `json:"name" example:"registry-password"`
	ChangedAt time.Time `json:"changedAt"`
}

// SecretCatalog lists the secrets.
type SecretCatalog func(ctx context.Context) ([]SecretEntry, error)

type secretPath struct {
	Name string `path:"name" doc:"the secret's name"`
}

type secretInput struct {
	Name string `path:"name" doc:"the secret's name"`
	Body struct {
		_     struct{} `json:"-" additionalProperties:"true"`
		Value string   `json:"value" minLength:"1" maxLength:"65536" doc:"the value; stored encrypted, never shown again" example:"s3cr3t"`
	}
}

type secretSetOutput struct {
	Body struct {
		Name    string `json:"name" example:"registry-password"`
		Message string `json:"message" example:"secret set"`
	}
}

type secretListOutput struct {
	Body struct {
		Items []SecretEntry `json:"items"`
	}
}

// registerSecrets serves /secrets when the server keeps secrets: write-only
// values, names and change times to list.
func (s *Server) registerSecrets(catalog SecretCatalog) {
	if catalog == nil {
		return
	}
	const tag = "secrets"
	huma.Register(s.api, s.op(http.MethodPut, "/secrets/{name}", "set-secret", "Set a secret's value (write-only)",
		"Stores the value encrypted, outside the event log; the log records only that the secret changed. No operation returns the value: drivers get it while they run a step the pipeline grants it to (`steps[].secrets`).", tag),
		func(ctx context.Context, in *secretInput) (*secretSetOutput, error) {
			if err := s.cmd.SetSecret(ctx, commands.SetSecret{Name: in.Name, Value: []byte(in.Body.Value)}); err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &secretSetOutput{}
			out.Body.Name, out.Body.Message = in.Name, "secret set"
			return out, nil
		})
	huma.Register(s.api, s.op(http.MethodGet, "/secrets", "list-secrets", "List the secrets: names and change times",
		"Every secret's name and when its value last changed; never a value.", tag),
		func(ctx context.Context, _ *struct{}) (*secretListOutput, error) {
			entries, err := catalog(ctx)
			if err != nil {
				return nil, huma.Error503ServiceUnavailable("listing the secrets failed: " + err.Error())
			}
			out := &secretListOutput{}
			out.Body.Items = entries
			return out, nil
		})
	op := s.op(http.MethodDelete, "/secrets/{name}", "delete-secret", "Delete a secret",
		"Removes the secret. Steps granted it fail when they ask for it.", tag)
	op.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, op, func(ctx context.Context, in *secretPath) (*struct{}, error) {
		if err := s.cmd.DeleteSecret(ctx, commands.DeleteSecret{Name: in.Name}); err != nil {
			return nil, s.problem(ctx, err)
		}
		return nil, nil
	})
}
