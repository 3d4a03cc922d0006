package main

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/conveyor/conveyor/commands"
)

// withoutToken is the transport the tests' HTTP clients had before
// TestMain gave them the admin tokens: requests through it carry none.
var withoutToken = http.DefaultTransport

// serverTokens holds the admin token of each server a test started, by the
// scheme and host of its API.
var serverTokens sync.Map

// tokenTransport sends, as the CLI does on the server's machine, the admin
// token of the server a request goes to, unless the request names its own
// Authorization (an empty one included: a request without a token). The server checks every one of them: this only spares each
// test from passing the token along.
type tokenTransport struct{ next http.RoundTripper }

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if _, named := r.Header["Authorization"]; !named {
		if tok, ok := serverTokens.Load(r.URL.Scheme + "://" + r.URL.Host); ok {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok.(string))
		}
	}
	return t.next.RoundTrip(r)
}

func init() { http.DefaultTransport = tokenTransport{next: withoutToken} }

// adminToken reads the token a server keeps in its admin token file and
// remembers it for requests to api; "" when the server has none.
func adminToken(t testing.TB, api, file string) string {
	t.Helper()
	if file == "" {
		return ""
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	tok := strings.TrimSpace(string(data))
	if u, err := url.Parse(api); err == nil {
		serverTokens.Store(u.Scheme+"://"+u.Host, tok)
	}
	return tok
}

// tokenFileOf is where a server started with args and env keeps its admin
// token: --admin-token-file, else admin.token in its data directory.
func tokenFileOf(args, env []string) string {
	if f := flagArg(args, env, "admin-token-file"); f != "" {
		return f
	}
	if dir := flagArg(args, env, "data-dir"); dir != "" {
		return filepath.Join(dir, adminTokenFile)
	}
	return ""
}

// flagArg is a server flag's value among args, else in env.
func flagArg(args, env []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, envName(name)+"="); ok {
			return v
		}
	}
	return ""
}

// providedAdminToken writes a fresh secret to a file of its own, for
// --admin-token-file: what an operator gives the replicas of a cluster.
func providedAdminToken(t testing.TB) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(file, []byte(commands.SecretPrefix+rand.Text()+rand.Text()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
