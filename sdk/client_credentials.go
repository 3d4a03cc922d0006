package sdk

import (
	"context"
	"net/http"
	"net/url"
)

// DriverCredentials are a driver's identity: a token of role driver named
// after it, and the NATS URL that carries that token.
type DriverCredentials struct {
	Name  string `json:"name"`
	Token string `json:"token"`
	// NATSURL is nats://TOKEN@host:port, for the driver's CONVEYOR_NATS_URL.
	NATSURL string `json:"natsUrl"`
}

// CreateDriverCredentials issues the credentials of driver name (needs an
// admin token); rotate revokes the ones it has first. The token is shown
// this once.
func (c *Client) CreateDriverCredentials(ctx context.Context, name string, rotate bool) (DriverCredentials, error) {
	path := "/drivers/" + url.PathEscape(name) + "/credentials"
	if rotate {
		path += "?rotate=true"
	}
	var out DriverCredentials
	_, err := c.do(ctx, http.MethodPost, path, nil, &out)
	return out, err
}
