package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// Role is what a token may do. Each role's rights are fixed:
//   - viewer reads everything but the maintenance endpoints;
//   - operator also writes resources and cancels and retries runs;
//   - admin may do anything: definitions, pipelines, tokens, maintenance;
//   - driver is a driver's identity: it reads what a driver's client reads
//     and, on NATS, takes its own work and sends its own results.
type Role string

// The roles.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
	RoleDriver   Role = "driver"
)

// Roles lists every role, least rights first.
var Roles = []Role{RoleViewer, RoleDriver, RoleOperator, RoleAdmin}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Allows reports whether a token of role r may do what needs role need.
// Rights grow from viewer to operator to admin; a driver has a viewer's
// rights and its own.
func (r Role) Allows(need Role) bool {
	if r == need || r == RoleAdmin {
		return true
	}
	switch need {
	case RoleViewer:
		return r == RoleOperator || r == RoleDriver
	}
	return false
}

// Actor is who caused an event: a token's name and id, or the server itself
// (the engine deciding a run) when Kind is "server".
type Actor struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	ID   string `json:"id,omitempty"`
}

// Kinds of actor.
const (
	ActorToken  = "token"
	ActorServer = "server"
)

// AggregateToken is the aggregate kind of API tokens; a token's stream is
// named after the token.
const AggregateToken = "token"

// Token events. The secret itself is never recorded, only its hash.
const (
	TypeTokenIssued  = "TokenIssued.v1"
	TypeTokenRevoked = "TokenRevoked.v1"
)

// Token is an API token as the log knows it.
type Token struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Hash is the hex SHA-256 of the secret.
	Hash string `json:"hash"`
}

// TokenIssued: a token was made; its secret was shown once.
type TokenIssued struct {
	Meta
	Token Token `json:"token"`
}

// TokenRevoked: a token no longer authenticates anyone.
type TokenRevoked struct {
	Meta
	Name    string `json:"name"`
	TokenID string `json:"tokenId"`
}

func init() {
	register(TypeTokenIssued, func() Event { return &TokenIssued{} })
	register(TypeTokenRevoked, func() Event { return &TokenRevoked{} })
}

// TokenAggregate is one token name's history: issued, revoked, and issued
// again under the same name with a new id and secret.
type TokenAggregate struct {
	state   Token
	active  bool
	version uint64
	changes []Event
}

// Active reports whether the name holds a token that authenticates.
func (t *TokenAggregate) Active() bool { return t.active }

// State is the last token issued under the name.
func (t *TokenAggregate) State() Token { return t.state }

// Changes are the events recorded since the aggregate was loaded.
func (t *TokenAggregate) Changes() []Event { return t.changes }

// Apply folds one event into the aggregate.
func (t *TokenAggregate) Apply(e Event) {
	switch e := e.(type) {
	case *TokenIssued:
		t.state, t.active = e.Token, true
	case *TokenRevoked:
		t.active = false
	}
	t.version = e.EventMeta().Version
}

func (t *TokenAggregate) record(e Event) {
	t.Apply(e)
	t.changes = append(t.changes, e)
}

// Issue records a new token. A name holds one active token at a time.
func (t *TokenAggregate) Issue(tok Token, c Cause) error {
	var problems ValidationErrors
	if err := CheckName("name", tok.Name); err != nil {
		problems = append(problems, err.(*ValidationError))
	}
	if !tok.Role.Valid() {
		problems = append(problems, Invalid("role", "must be one of viewer, driver, operator, admin"))
	}
	if len(tok.Hash) != 64 {
		problems = append(problems, Invalid("hash", "must be a hex SHA-256"))
	}
	if len(problems) > 0 {
		return problems
	}
	if t.active {
		return alreadyExists("token", tok.Name)
	}
	t.record(&TokenIssued{Meta: c.meta(TypeTokenIssued, AggregateToken, tok.Name, t.version+1), Token: tok})
	return nil
}

// Revoke ends the active token of the name.
func (t *TokenAggregate) Revoke(name string, c Cause) error {
	if !t.active {
		return notFound("token", name)
	}
	t.record(&TokenRevoked{Meta: c.meta(TypeTokenRevoked, AggregateToken, name, t.version+1), Name: name, TokenID: t.state.ID})
	return nil
}

// HashSecret is how a token's secret is kept: the hex SHA-256. Secrets are
// random and long, so a fast hash is enough.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
