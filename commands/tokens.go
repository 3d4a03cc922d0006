package commands

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/conveyor/conveyor/domain"
)

// SecretPrefix starts every token secret, so that scanners and people
// recognise one.
const SecretPrefix = "cvy_"

// IssueToken makes a token of a role under a name. Its secret is returned
// here once; the log keeps only its hash.
type IssueToken struct {
	Name string
	Role domain.Role
	// Secret, when set, is the secret to use instead of a random one: an
	// operator's bootstrap token. It must be at least MinSecretLength long.
	Secret string
	// RequestID, when set, is the causation id of the event.
	RequestID string
}

// MinSecretLength is the shortest secret a token may have.
const MinSecretLength = 32

// IssueToken records TokenIssued and returns the token and its secret. A
// name that holds an active token is a conflict.
func (h *Handler) IssueToken(ctx context.Context, c IssueToken) (domain.Token, string, error) {
	if err := checkNames("name", c.Name); err != nil {
		return domain.Token{}, "", err
	}
	var agg domain.TokenAggregate
	l, err := h.load(ctx, domain.AggregateToken, c.Name, &agg)
	if err != nil {
		return domain.Token{}, "", err
	}
	secret := c.Secret
	if secret == "" {
		secret = SecretPrefix + rand.Text() + rand.Text()
	} else if len(secret) < MinSecretLength {
		return domain.Token{}, "", domain.Invalid("token", fmt.Sprintf("must be at least %d characters", MinSecretLength))
	}
	tok := domain.Token{ID: h.newID(), Name: c.Name, Role: c.Role, Hash: domain.HashSecret(secret)}
	if err := agg.Issue(tok, h.cause("", c.RequestID)); err != nil {
		return domain.Token{}, "", err
	}
	if err := h.save(ctx, l, &agg); err != nil {
		return domain.Token{}, "", err
	}
	return tok, secret, nil
}

// RevokeToken ends the active token of a name.
type RevokeToken struct {
	Name      string
	RequestID string
}

// RevokeToken records TokenRevoked and returns the token revoked.
func (h *Handler) RevokeToken(ctx context.Context, c RevokeToken) (domain.Token, error) {
	var agg domain.TokenAggregate
	l, err := h.load(ctx, domain.AggregateToken, c.Name, &agg)
	if err != nil {
		return domain.Token{}, err
	}
	if err := agg.Revoke(c.Name, h.cause("", c.RequestID)); err != nil {
		return domain.Token{}, err
	}
	if err := h.save(ctx, l, &agg); err != nil {
		return domain.Token{}, err
	}
	return agg.State(), nil
}
