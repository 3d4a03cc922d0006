package main

import (
	"sync/atomic"

	"github.com/conveyor/conveyor/adapters/natsserver"
	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	wire "github.com/conveyor/conveyor/sdk/protocol"
)

// natsGate decides who may connect to the embedded NATS, by the API tokens
// of the log (docs/security.md): an admin token has every right, a driver
// token exactly its driver's (protocol.DriverPermissions), with the
// consumers of the labels its connection's name declares
// (wire.ConnectionLabels), any other token or none is refused. A driver
// token given as the password of a user named after its driver
// (nats://NAME:TOKEN@host:port, the form for drivers of the original
// runtime) puts the connection in an account of the driver's own that
// reaches the server's on protocol.OriginalRoutes alone. Until the tokens
// are loaded it refuses everyone but the server itself. Safe for
// concurrent use.
type natsGate struct {
	tokens atomic.Pointer[projections.Tokens]
}

// authenticate implements natsserver.Authenticator.
func (g *natsGate) authenticate(cred natsserver.Credentials) (natsserver.Identity, bool) {
	tokens := g.tokens.Load()
	if tokens == nil {
		return natsserver.Identity{}, false
	}
	secret := cred.Token
	if cred.User != "" {
		secret = cred.Password
	}
	tok, ok := tokens.Authenticate(secret)
	if !ok {
		return natsserver.Identity{}, false
	}
	switch {
	case cred.User != "":
		if tok.Role != domain.RoleDriver || tok.Name != cred.User {
			return natsserver.Identity{}, false
		}
		return natsserver.Identity{Name: natsUser(tok.Name), Account: originalAccount(tok.Name)}, true
	case tok.Role == domain.RoleAdmin:
		return natsserver.Identity{Name: natsUser(tok.Name)}, true
	case tok.Role == domain.RoleDriver:
		pub, sub := protocol.DriverPermissions(tok.Name, wire.ConnectionLabels(cred.Client, tok.Name))
		return natsserver.Identity{Name: natsUser(tok.Name),
			Permissions: &natsserver.Permissions{Publish: pub, Subscribe: sub}}, true
	}
	return natsserver.Identity{}, false
}

// originalAccount is the account of the connections of driver of the
// original runtime.
func originalAccount(driver string) *natsserver.Account {
	acc := &natsserver.Account{Name: "original-driver:" + driver}
	for _, r := range protocol.OriginalRoutes(driver) {
		acc.Imports = append(acc.Imports, natsserver.Import{Subject: r.Subject, To: r.To, Stream: r.Stream})
	}
	return acc
}

// natsUser is the NATS user of the connections of token name: one active
// token holds a name, so the name finds them when it is revoked.
func natsUser(token string) string { return "token:" + token }

// natsAuthOn reports whether the embedded NATS requires credentials.
func natsAuthOn(cfg serverConfig) bool { return cfg.NATSAuth && cfg.NATSURL == "" }
