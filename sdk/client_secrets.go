package sdk

import (
	"context"
	"net/http"
	"time"
)

// SecretEntry is a secret as the API lists it: never its value.
type SecretEntry struct {
	Name      string    `json:"name"`
	ChangedAt time.Time `json:"changedAt"`
}

// SetSecret gives the secret name its value (write-only: no call returns it).
func (c *Client) SetSecret(ctx context.Context, name string, value []byte) error {
	_, err := c.do(ctx, http.MethodPut, "/secrets/"+esc(name), map[string]string{"value": string(value)}, nil)
	return err
}

// Secrets lists the secrets' names and change times.
func (c *Client) Secrets(ctx context.Context) ([]SecretEntry, error) {
	var out struct {
		Items []SecretEntry `json:"items"`
	}
	_, err := c.do(ctx, http.MethodGet, "/secrets", nil, &out)
	return out.Items, err
}

// DeleteSecret removes the secret name.
func (c *Client) DeleteSecret(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/secrets/"+esc(name), nil, nil)
	return err
}
