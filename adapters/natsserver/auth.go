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
	// Account, when set, puts the client in an account of its own instead
	// of the server's (account.go): it reaches nothing of the server's but
	// the account's Imports, whatever its Permissions.
	Account *Account
}

// Credentials are what a client sent: a token (nats.Token, or the user part
// of nats://TOKEN@host:port), or a user and a password
// (nats://USER:PASSWORD@host:port).
// Client is the name the connection gave itself (nats.Name), which may
// narrow its rights further, never widen them past its credentials'.
type Credentials struct {
	Token, User, Password string
	Client                string
}

// Authenticator decides who a client is by the credentials it sent; false
// refuses the client. It is called for every new connection, concurrently,
// and must be fast.
type Authenticator func(Credentials) (Identity, bool)

// serverIdentity names the server's own connections.
const serverIdentity = "conveyor-server"

// auth implements server.Authentication: the server's own secret, held in
// memory only, gives every right; any other credentials are the
// Authenticator's to judge.
type auth struct {
	secret   string
	judge    Authenticator
	accounts *accounts // set before the server starts
}

func newAuth(judge Authenticator) *auth {
	return &auth{secret: "srv_" + rand.Text() + rand.Text(), judge: judge}
}

// Check implements server.Authentication.
func (a *auth) Check(c server.ClientAuthentication) bool {
	opts := c.GetOpts()
	cred := Credentials{Token: opts.Token, User: opts.Username, Password: opts.Password, Client: opts.Name}
	if cred == (Credentials{}) {
		return false
	}
	if cred.Token != "" && subtle.ConstantTimeCompare([]byte(cred.Token), []byte(a.secret)) == 1 {
		c.RegisterUser(&server.User{Username: serverIdentity})
		return true
	}
	id, ok := a.judge(cred)
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
	if id.Account != nil {
		acc, ok := a.accounts.open(*id.Account)
		if !ok {
			return false
		}
		u.Account = acc
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
