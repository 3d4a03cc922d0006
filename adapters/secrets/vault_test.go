package secrets_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/secrets"
	"github.com/conveyor/conveyor/domain"
	"github.com/nats-io/nats.go/jetstream"
)

func TestVaultKeepsValuesEncryptedUnderTheirNames(t *testing.T) {
	ctx := context.Background()
	v, js := newVault(t)
	if err := v.Put(ctx, "token", []byte("plain-value-123")); err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get(ctx, "token"); err != nil || string(got) != "plain-value-123" {
		t.Fatalf("get: %q %v", got, err)
	}
	kv, err := js.KeyValue(ctx, secrets.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := kv.Get(ctx, "token")
	if err != nil || strings.Contains(string(stored.Value()), "plain-value-123") {
		t.Fatalf("the bucket holds the value in the clear (%v)", err)
	}
	// A value moved under another name does not decrypt: the name is
	// authenticated with it.
	if _, err := kv.Put(ctx, "other", stored.Value()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get(ctx, "other"); err == nil || !strings.Contains(err.Error(), "cannot be decrypted") {
		t.Errorf("a value moved to another name: %v", err)
	}
	if _, err := v.Get(ctx, "missing"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("a missing secret: %v", err)
	}
	if err := v.Delete(ctx, "token"); err != nil {
		t.Fatal(err)
	}
	list, err := v.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "other" {
		t.Errorf("list after delete: %v %v", list, err)
	}
}

func TestKeyFromFileOrEnvironment(t *testing.T) {
	dir := t.TempDir()
	none := func(string) string { return "" }
	first, err := secrets.LoadKey(none, dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, "secrets.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	again, err := secrets.LoadKey(none, dir)
	if err != nil || string(again) != string(first) {
		t.Errorf("the key changed between starts: %v", err)
	}
	env := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	fromEnv, err := secrets.LoadKey(func(k string) string {
		if k == secrets.EnvKey {
			return env
		}
		return ""
	}, dir)
	if err != nil || string(fromEnv) != strings.Repeat("k", 32) {
		t.Errorf("key from the environment: %v", err)
	}
	if _, err := secrets.LoadKey(func(string) string { return "c2hvcnQ=" }, dir); err == nil {
		t.Error("a short key was accepted")
	}
}

// newVault is a vault with a new key on a new NATS server, and that
// server's JetStream.
func newVault(t *testing.T) (*secrets.Vault, jetstream.JetStream) {
	t.Helper()
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	key, err := secrets.LoadKey(func(string) string { return "" }, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v, err := secrets.Open(context.Background(), js, key, 1)
	if err != nil {
		t.Fatal(err)
	}
	return v, js
}
