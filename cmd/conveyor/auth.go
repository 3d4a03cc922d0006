package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	q := projections.EventQuery{Aggregate: domain.AggregateToken, Limit: projections.MaxLimit}
	for {
		page, next, err := store.Events(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("load tokens: %w", err)
		}
		for _, raw := range page {
			e, err := domain.DecodeEvent(raw)
			if err != nil {
				return nil, fmt.Errorf("load tokens: %w", err)
			}
			tokens.Apply(e)
		}
		if next == 0 {
			return tokens, nil
		}
		q.After = next
	}
}

// followTokens keeps tokens current with the log until ctx ends: a token
// issued or revoked through any replica counts here within moments.
func followTokens(ctx context.Context, store *eventstore.Store, tokens *projections.Tokens, log *slog.Logger) error {
	for ctx.Err() == nil {
		q := projections.EventQuery{Aggregate: domain.AggregateToken, After: tokens.Sequence()}
		err := store.Follow(ctx, q, func(e domain.Event) error { tokens.Apply(e); return nil })
		if err != nil && ctx.Err() == nil {
			log.Warn("following the tokens of the log; again in a second", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

// ensureAdminToken makes sure the data directory holds the secret of a
// valid admin token, so that the CLI on this machine works with no flag.
// When the file is missing, or its token was revoked, the server issues
// localAdmin again (revoking the one before). Servers that share external
// clusters do so only while no admin token exists at all: one replica must
// not revoke another's.
func ensureAdminToken(ctx context.Context, cfg serverConfig, cmd *commands.Handler, store *eventstore.Store, tokens *projections.Tokens, log *slog.Logger) error {
	path := filepath.Join(cfg.DataDir, adminTokenFile)
	if data, err := os.ReadFile(path); err == nil {
		if _, ok := tokens.Authenticate(strings.TrimSpace(string(data))); ok {
			return nil
		}
	}
	if cfg.NATSURL != "" && tokens.Has(domain.RoleAdmin) {
		log.Info("no admin token in the data directory; use one issued by an admin", "file", path)
		return nil
	}
	ctx = commands.WithActor(ctx, serverActor)
	if _, err := cmd.RevokeToken(ctx, commands.RevokeToken{Name: localAdmin}); err != nil && !errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("revoke the old %s token: %w", localAdmin, err)
	}
	_, secret, err := cmd.IssueToken(ctx, commands.IssueToken{Name: localAdmin, Role: domain.RoleAdmin})
	if err != nil {
		return fmt.Errorf("issue the %s token: %w", localAdmin, err)
	}
	if err := writeSecretFile(path, secret); err != nil {
		return err
	}
	events, err := store.Load(ctx, domain.AggregateToken, localAdmin)
	if err != nil {
		return err
	}
	for _, e := range events {
		tokens.Apply(e)
	}
	log.Info("issued an admin token for this machine's CLI", "token", localAdmin, "file", path)
	return nil
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

// engineActor is the actor of the engine's decisions.
var engineActor = domain.Actor{Kind: domain.ActorServer, Name: "engine"}

// tokenTable is tokens as the API takes them: none when authentication is
// off.
func tokenTable(tokens *projections.Tokens) api.TokenTable {
	if tokens == nil {
		return nil
	}
	return tokens
}
