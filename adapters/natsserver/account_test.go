package natsserver

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestAccountReachesOnlyItsImports: a client put in an account of its own
// reaches the server's account on its imports, mapped to their To, with the
// answers coming back; any other subject has no responders, and the
// server's account does not see what it publishes there.
func TestAccountReachesOnlyItsImports(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	own := &Account{Name: "own-compiler", Imports: []Import{{Subject: "ask", To: "asked.compiler"}}}
	s, err := Start(ctx, Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Authenticate: func(c Credentials) (Identity, bool) {
		return Identity{Name: c.User, Account: own}, c.User == "compiler" && c.Password == "pw"
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	srv, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	seen := make(chan string, 10)
	if _, err := srv.Subscribe(">", func(m *nats.Msg) {
		if strings.HasPrefix(m.Subject, "_R_.") {
			return // its own answer, on its way back
		}
		seen <- m.Subject
		if m.Reply != "" {
			_ = m.Respond([]byte("answer from " + m.Subject))
		}
	}); err != nil {
		t.Fatal(err)
	}
	_ = srv.Flush()

	u, _ := url.Parse(s.ClientURL())
	u.User = url.UserPassword("compiler", "pw")
	for range 2 { // the second client shares the account made for the first
		nc, err := nats.Connect(u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		answer, err := nc.Request("ask", nil, 5*time.Second)
		if err != nil || string(answer.Data) != "answer from asked.compiler" {
			t.Fatalf("request on the import: %v, %v", answer, err)
		}
		if got := <-seen; got != "asked.compiler" {
			t.Errorf("the server's account saw %s, want asked.compiler", got)
		}
		for _, subject := range []string{"asked.compiler", "asked.uploader", "$JS.API.INFO"} {
			if _, err := nc.Request(subject, nil, 2*time.Second); !errors.Is(err, nats.ErrNoResponders) {
				t.Errorf("request on %s: %v, want no responders", subject, err)
			}
		}
	}
	select {
	case got := <-seen:
		t.Errorf("the server's account saw %s", got)
	case <-time.After(100 * time.Millisecond):
	}
	u.User = url.UserPassword("compiler", "wrong")
	if nc, err := nats.Connect(u.String()); err == nil {
		nc.Close()
		t.Error("wrong credentials connected")
	}
}
