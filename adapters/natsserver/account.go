package natsserver

import (
	"fmt"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
)

// Account is an account of its own for the clients of one identity. It has
// no JetStream and no subject of the server's account but its Imports:
// whatever such a client publishes elsewhere reaches no one, and nothing of
// the server's account reaches it but the answers to its imports. So what
// it may do is exactly its imports, even where subject permissions could
// not say it (a JetStream request's body).
type Account struct {
	// Name names the account; every client with the same Name shares it,
	// and its Imports must then be the same.
	Name    string
	Imports []Import
}

// Import carries what a client of an Account publishes on Subject to the
// server's account, where it arrives on To (Subject when empty), with the
// client's reply subject mapped so that the answers come back to it. The
// server's account offers To to that account alone.
type Import struct {
	Subject string
	To      string
	// Stream says a request is answered by a stream of messages (a pull
	// request's deliveries and status messages), not by one.
	Stream bool
}

// accounts makes each Account once, on its first client, and keeps it for
// the server's life. Safe for concurrent use.
type accounts struct {
	ns   *server.Server
	mu   sync.Mutex
	made map[string]*server.Account
}

func newAccounts(ns *server.Server) *accounts {
	return &accounts{ns: ns, made: map[string]*server.Account{}}
}

// open returns the nats-server account of spec, making it and its imports
// the first time; false (logged) when nats-server refuses them.
func (a *accounts) open(spec Account) (*server.Account, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if acc, ok := a.made[spec.Name]; ok {
		return acc, true
	}
	acc, err := a.make(spec)
	if err != nil {
		a.ns.Errorf("account %s: %v", spec.Name, err)
		return nil, false
	}
	a.made[spec.Name] = acc
	return acc, true
}

func (a *accounts) make(spec Account) (*server.Account, error) {
	if spec.Name == "" || spec.Name == server.DEFAULT_GLOBAL_ACCOUNT || spec.Name == server.DEFAULT_SYSTEM_ACCOUNT {
		return nil, fmt.Errorf("%q cannot be a client's own account", spec.Name)
	}
	acc, isNew := a.ns.LookupOrRegisterAccount(spec.Name)
	if !isNew {
		return nil, fmt.Errorf("the account exists already")
	}
	main := a.ns.GlobalAccount()
	for _, im := range spec.Imports {
		to := im.To
		if to == "" {
			to = im.Subject
		}
		resp := server.Singleton
		if im.Stream {
			resp = server.Streamed
		}
		if err := main.AddServiceExportWithResponse(to, resp, []*server.Account{acc}); err != nil {
			return nil, fmt.Errorf("export %s: %w", to, err)
		}
		if err := acc.AddServiceImport(main, im.Subject, to); err != nil {
			return nil, fmt.Errorf("import %s as %s: %w", im.Subject, to, err)
		}
	}
	return acc, nil
}
