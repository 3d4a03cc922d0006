package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/api"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
)

// adminTokenFile is where, in the data directory, the server keeps the
// secret of its local admin token, for the CLI on the same machine.
const adminTokenFile = "admin.token"

// localAdmin is the name of the token the server issues for adminTokenFile.
const localAdmin = "local-admin"

// serverActor is the actor of the events the server causes on its own.
var serverActor = domain.Actor{Kind: domain.ActorServer, Name: "conveyor"}

// loadTokens reads every token event of the log into a new table.
func loadTokens(ctx context.Context, store *eventstore.Store) (*projections.Tokens, error) {
	tokens := projections.NewTokens()
	if err := loadAggregate(ctx, store, domain.AggregateToken, tokens.Apply); err != nil {
		return nil, err
	}
	return tokens, nil
}

// followTokens keeps tokens current with the log until ctx ends: a token
// issued or revoked through any replica counts here within moments.
// revoked, when not nil, is told the name of each token revoked.
func followTokens(ctx context.Context, store *eventstore.Store, tokens *projections.Tokens, revoked func(name string), log *slog.Logger) error {
	return followAggregate(ctx, store, domain.AggregateToken, tokens.Sequence, func(e domain.Event) {
		tokens.Apply(e)
		if r, ok := e.(*domain.TokenRevoked); ok && revoked != nil {
			revoked(r.Name)
		}
	}, log)
}

// adminTokenPath is the file of the admin token for this machine's CLI:
// --admin-token-file, else admin.token in the data directory of a server
// that embeds NATS; "" for a replica of external clusters without the flag
// (its data directory stays unused).
func adminTokenPath(cfg serverConfig) string {
	switch {
	case cfg.AdminTokenFile != "":
		return cfg.AdminTokenFile
	case cfg.NATSURL == "":
		return filepath.Join(cfg.DataDir, adminTokenFile)
	}
	return ""
}

// ensureAdminToken makes sure the admin token file holds the secret of a
// valid admin token named localAdmin, so that the CLI on this machine works
// with no flag. A secret already in the file is kept (an operator may
// provide one, for every replica of a cluster); without one, or when its
// token was revoked, the server issues localAdmin again and writes the
// file. A replica of external clusters with an empty file does so only
// while no admin token exists at all: it must not revoke another's.
func ensureAdminToken(ctx context.Context, cfg serverConfig, cmd *commands.Handler, store *eventstore.Store, tokens *projections.Tokens, log *slog.Logger) error {
	path := adminTokenPath(cfg)
	if path == "" {
		if !tokens.Has(domain.RoleAdmin) {
			log.Warn("no admin token exists: give --admin-token-file to one replica to issue the first")
		}
		return nil
	}
	var secret string
	if data, err := os.ReadFile(path); err == nil {
		secret = strings.TrimSpace(string(data))
	}
	ctx = commands.WithActor(ctx, serverActor)
	for attempt := 0; ; attempt++ {
		if _, ok := tokens.Authenticate(secret); ok && secret != "" {
			return nil
		}
		if secret == "" && cfg.NATSURL != "" && tokens.Has(domain.RoleAdmin) {
			log.Info("the admin token file is empty and an admin token exists; use that one", "file", path)
			return nil
		}
		issued, err := reissue(ctx, cmd, secret)
		if err == nil {
			if secret == "" {
				if err := writeSecretFile(path, issued); err != nil {
					return err
				}
			}
			log.Info("issued an admin token for this machine's CLI", "token", localAdmin, "file", path)
		} else if !errors.Is(err, domain.ErrConflict) || attempt == 3 {
			return fmt.Errorf("admin token: %w", err)
		}
		// A replica beside this one may have issued it in the meantime.
		events, err := store.Load(ctx, domain.AggregateToken, localAdmin)
		if err != nil {
			return err
		}
		for _, e := range events {
			tokens.Apply(e)
		}
		if issued != "" {
			secret = issued
		}
	}
}

// reissue revokes localAdmin, if active, and issues it again with secret (a
// random one when empty), which it returns.
func reissue(ctx context.Context, cmd *commands.Handler, secret string) (string, error) {
	if _, err := cmd.RevokeToken(ctx, commands.RevokeToken{Name: localAdmin}); err != nil && !errors.Is(err, domain.ErrNotFound) {
		return "", err
	}
	_, issued, err := cmd.IssueToken(ctx, commands.IssueToken{Name: localAdmin, Role: domain.RoleAdmin, Secret: secret})
	return issued, err
}

// writeSecretFile writes secret to path, readable by its owner alone; the
// file is replaced whole or not at all.
func writeSecretFile(path, secret string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".admin-token-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(secret + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// tokenTable is tokens as the API takes them: none when authentication is
// off.
func tokenTable(tokens *projections.Tokens) api.TokenTable {
	if tokens == nil {
		return nil
	}
	return tokens
}
