package natsserver

import (
	"crypto/rand"
	"crypto/subtle"

	"github.com/nats-io/nats-server/v2/server"
)

// Permissions say which subjects a client may publish and subscribe to;
// every other subject is denied. Wildcards are NATS's own (* and >).
type Permissions struct {
	Publish   []string
	Subscribe []string
}

// Identity is who a client is once authenticated. Permissions nil means
// everything (the server's own connections, operators).
type Identity struct {
	// Name is reported as the connection's user, and is what Disconnect
	// finds connections by.
	Name        string
	Permissions *Permissions
}

// Authenticator decides who a client is by the token it sent (nats.Token,
// or the user part of nats://TOKEN@host:port); false refuses the client.
// Client is the name the connection gave itself (nats.Name), which may
// narrow its rights further, never widen them past the token's. It is
// called for every new connection, concurrently, and must be fast.
type Authenticator func(token, client string) (Identity, bool)

// serverIdentity names the server's own connections.
const serverIdentity = "conveyor-server"

// auth implements server.Authentication: the server's own secret, held in
// memory only, gives every right; any other token is the Authenticator's to
// judge.
type auth struct {
	secret string
	judge  Authenticator
}

func newAuth(judge Authenticator) *auth {
	return &auth{secret: "srv_" + rand.Text() + rand.Text(), judge: judge}
}

// Check implements server.Authentication.
func (a *auth) Check(c server.ClientAuthentication) bool {
	opts := c.GetOpts()
	token := opts.Token
	if token == "" {
		return false
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(a.secret)) == 1 {
		c.RegisterUser(&server.User{Username: serverIdentity})
		return true
	}
	id, ok := a.judge(token, opts.Name)
	if !ok {
		return false
	}
	u := &server.User{Username: id.Name}
	if p := id.Permissions; p != nil {
		u.Permissions = &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: nonNil(p.Publish)},
			Subscribe: &server.SubjectPermission{Allow: nonNil(p.Subscribe)},
		}
	}
	c.RegisterUser(u)
	return true
}

// nonNil keeps an empty allow list an empty list: nil would allow all.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
