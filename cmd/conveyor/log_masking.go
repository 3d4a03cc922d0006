package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/conveyor/conveyor/adapters/logmask"
	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/adapters/secrets"
	"github.com/conveyor/conveyor/domain"
)

// runLoader reads a run as the event log has it.
type runLoader func(ctx context.Context, runID string) (domain.Run, error)

// maskLogs starts masking the secrets of each run in the log lines stored
// for it (protocol.MaskLogs), on a NATS connection of its own, so a burst
// of lines does not queue before the server's own work. stop drains it.
func maskLogs(in *infra, load runLoader, vault *secrets.Vault, log *slog.Logger) (stop func(), err error) {
	values := func(context.Context, string) ([]string, error) { return nil, nil } // no vault: no secrets
	if vault != nil {
		every := &everySecret{vault: vault}
		values = func(ctx context.Context, runID string) ([]string, error) {
			// A server without secrets does not read every run that logs.
			if empty, err := vault.Empty(ctx); err != nil || empty {
				return nil, err
			}
			run, err := load(ctx, runID)
			if errors.Is(err, domain.ErrNotFound) {
				// POST /logs takes any id, and a run's id is known before
				// the run is recorded: such a line is masked against
				// every secret there is.
				all, err := every.values(ctx)
				if err != nil {
					return nil, err
				}
				return all, logmask.ErrNoRun
			}
			if err != nil {
				return nil, err
			}
			return vault.RunValues(ctx, run)
		}
	}
	nc, err := in.newConn()
	if err != nil {
		return nil, fmt.Errorf("log masking: %w", err)
	}
	masking, err := protocol.MaskLogs(nc, logmask.NewRuns(values, logmask.RunsConfig{}), log.With("component", "logs"))
	if err != nil {
		nc.Close()
		return nil, err
	}
	return func() {
		_ = masking.Drain() // the lines taken are stored before the connection goes
		_ = nc.Drain()
	}, nil
}

// everySecret is every value the vault holds, read at most once a second
// however many lines of runs not recorded come (each one's id may be new).
type everySecret struct {
	vault *secrets.Vault
	mu    sync.Mutex
	all   []string
	read  time.Time
}

func (e *everySecret) values(ctx context.Context) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if time.Since(e.read) < time.Second {
		return e.all, nil
	}
	all, err := e.vault.Values(ctx)
	if err != nil {
		return nil, err
	}
	e.all, e.read = all, time.Now()
	return all, nil
}
