package commands

import (
	"context"
	"errors"

	"github.com/conveyor/conveyor/domain"
)

// SecretVault keeps secret values, encrypted, outside the event log.
type SecretVault interface {
	Put(ctx context.Context, name string, value []byte) error
	Delete(ctx context.Context, name string) error
}

// ErrNoVault is the answer to secret commands on a handler without a vault.
var ErrNoVault = errors.New("secrets are not available on this server")

// SetSecret gives the secret Name the value Value.
type SetSecret struct {
	Name      string
	Value     []byte
	RequestID string
}

// SetSecret stores the value in the vault, then records SecretChanged,
// which holds no value. Should the append fail after the value is stored,
// the answer is an error and a retry records the change: the value is never
// in the log, and the log does not claim a change the vault does not have.
func (h *Handler) SetSecret(ctx context.Context, c SetSecret) error {
	var agg domain.SecretAggregate
	l, err := h.loadSecret(ctx, c.Name, &agg)
	if err != nil {
		return err
	}
	if err := agg.Set(c.Name, len(c.Value), h.cause("", c.RequestID)); err != nil {
		return err
	}
	if err := h.vault.Put(ctx, c.Name, c.Value); err != nil {
		return err
	}
	return h.save(ctx, l, &agg)
}

// DeleteSecret removes the secret Name.
type DeleteSecret struct {
	Name, RequestID string
}

// DeleteSecret records SecretDeleted, then removes the value.
func (h *Handler) DeleteSecret(ctx context.Context, c DeleteSecret) error {
	var agg domain.SecretAggregate
	l, err := h.loadSecret(ctx, c.Name, &agg)
	if err != nil {
		return err
	}
	if err := agg.Delete(c.Name, h.cause("", c.RequestID)); err != nil {
		return err
	}
	if err := h.save(ctx, l, &agg); err != nil {
		return err
	}
	return h.vault.Delete(ctx, c.Name)
}

// loadSecret loads the secret name into agg, once the vault is there and
// the name keeps the rules.
func (h *Handler) loadSecret(ctx context.Context, name string, agg *domain.SecretAggregate) (loaded, error) {
	if h.vault == nil {
		return loaded{}, ErrNoVault
	}
	if err := domain.CheckName("name", name); err != nil {
		return loaded{}, err
	}
	return h.load(ctx, domain.AggregateSecret, name, agg)
}
