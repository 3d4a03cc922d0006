package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/conveyor/conveyor/adapters/secrets"
	"github.com/conveyor/conveyor/api"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
	"github.com/conveyor/conveyor/projections"
)

// dueRuns lists the runs due by a time, page by page, for the engine's
// timers: from the read models' deadline index, so that it reads the runs
// due, never the finished ones.
func dueRuns(q *projections.ReadModel) engine.DueRuns {
	return func(ctx context.Context, until time.Time) ([]domain.Run, error) {
		var out []domain.Run
		page := projections.Page{Limit: projections.MaxLimit}
		for {
			views, next, err := q.RunsDue(ctx, until, page)
			if err != nil {
				return out, err
			}
			for _, v := range views {
				out = append(out, v.Run)
			}
			if next == "" || next == page.Continue {
				return out, nil
			}
			page.Continue = next
		}
	}
}

// secretCatalog lists the vault's secrets for the API.
func secretCatalog(v *secrets.Vault) api.SecretCatalog {
	return func(ctx context.Context) ([]api.SecretEntry, error) {
		entries, err := v.List(ctx)
		out := make([]api.SecretEntry, len(entries))
		for i, e := range entries {
			out[i] = api.SecretEntry{Name: e.Name, ChangedAt: e.ChangedAt}
		}
		return out, err
	}
}

// openVault opens the secrets' vault. Its key is CONVEYOR_SECRETS_KEY, else,
// with embedded NATS and etcd, a file in the data directory. A server on
// external clusters writes nothing into its data directory, and its
// replicas must share one key: without the variable it keeps no secrets,
// and says so.
func openVault(ctx context.Context, cfg serverConfig, js jetstream.JetStream, log *slog.Logger) (*secrets.Vault, error) {
	if cfg.NATSURL != "" && os.Getenv(secrets.EnvKey) == "" {
		log.Warn("secrets are off: on external clusters every server needs the same key in " + secrets.EnvKey)
		return nil, nil
	}
	key, err := secrets.LoadKey(os.Getenv, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	return secrets.Open(ctx, js, key, cfg.Replicas)
}
