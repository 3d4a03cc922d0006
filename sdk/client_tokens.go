package sdk

import (
	"context"
	"net/http"
	"net/url"
)

// Token is an API token as the server shows it: its secret only in the
// answer of CreateToken.
type Token struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	// Role is viewer, driver, operator or admin.
	Role string `json:"role"`
	// Secret is the bearer token itself, set only when it was just issued.
	Secret string `json:"token,omitempty"`
}

// CreateToken issues a token of role under name (needs an admin token).
// The answer's Secret is shown this once; the server keeps only its hash.
func (c *Client) CreateToken(ctx context.Context, name, role string) (Token, error) {
	var out Token
	_, err := c.do(ctx, http.MethodPost, "/tokens", map[string]string{"name": name, "role": role}, &out)
	return out, err
}

// Tokens lists the active tokens, without their secrets.
func (c *Client) Tokens(ctx context.Context) ([]Token, error) {
	var out struct {
		Items []Token `json:"items"`
	}
	_, err := c.do(ctx, http.MethodGet, "/tokens", nil, &out)
	return out.Items, err
}

// RevokeToken revokes the active token of name: it authenticates no one
// from then on.
func (c *Client) RevokeToken(ctx context.Context, name string) (Token, error) {
	var out Token
	_, err := c.do(ctx, http.MethodDelete, "/tokens/"+url.PathEscape(name), nil, &out)
	return out, err
}
