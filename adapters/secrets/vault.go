package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the key-value bucket of the encrypted values.
const Bucket = "CONVEYOR_SECRETS"

// EnvKey holds the key, base64 of 32 bytes, where several servers share
// one (a cluster); else the key is a file in the data directory.
const EnvKey = "CONVEYOR_SECRETS_KEY"

// Vault stores secret values encrypted. Safe for concurrent use.
type Vault struct {
	kv   jetstream.KeyValue
	aead cipher.AEAD
}

// Entry is a secret's name and when its value last changed.
type Entry struct {
	Name      string    `json:"name"`
	ChangedAt time.Time `json:"changedAt"`
}

// Open opens (or makes) the bucket with replicas and the cipher of key.
func Open(ctx context.Context, js jetstream.JetStream, key []byte, replicas int) (*Vault, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: Bucket, History: 1,
		Storage: jetstream.FileStorage, Replicas: max(replicas, 1), Description: "pipeline secrets, encrypted; the key is not in NATS"})
	if err != nil {
		return nil, fmt.Errorf("secrets: bucket: %w", err)
	}
	return &Vault{kv: kv, aead: aead}, nil
}

// LoadKey reads the key from EnvKey, else from the file key in dir, which
// it makes (readable by the owner alone) when there is none.
func LoadKey(getenv func(string) string, dir string) ([]byte, error) {
	if v := strings.TrimSpace(getenv(EnvKey)); v != "" {
		key, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s must be base64 of 32 bytes (openssl rand -base64 32)", EnvKey)
		}
		return key, nil
	}
	path := filepath.Join(dir, "secrets.key")
	data, err := os.ReadFile(path)
	if err == nil {
		key, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if derr != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s does not hold base64 of 32 bytes", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

// Put stores value under name, encrypted; the name is authenticated with
// it, so a value cannot be moved to another name.
func (v *Vault) Put(ctx context.Context, name string, value []byte) error {
	nonce := make([]byte, v.aead.NonceSize())
	_, _ = rand.Read(nonce)
	_, err := v.kv.Put(ctx, name, v.aead.Seal(nonce, nonce, value, []byte(name)))
	return err
}

// Get is the value of name; domain.ErrNotFound when there is none.
func (v *Vault) Get(ctx context.Context, name string) ([]byte, error) {
	e, err := v.kv.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, domain.NotFound("secret " + `"` + name + `"`)
	}
	if err != nil {
		return nil, err
	}
	sealed := e.Value()
	n := v.aead.NonceSize()
	if len(sealed) < n {
		return nil, fmt.Errorf("secret %s: stored value is cut short", name)
	}
	value, err := v.aead.Open(nil, sealed[:n], sealed[n:], []byte(name))
	if err != nil {
		return nil, fmt.Errorf("secret %s: cannot be decrypted with this server's key", name)
	}
	return value, nil
}

// Delete removes name; a name that is not there is no error.
func (v *Vault) Delete(ctx context.Context, name string) error {
	err := v.kv.Purge(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	return err
}

// List is every secret's name and change time, by name.
func (v *Vault) List(ctx context.Context) ([]Entry, error) {
	lister, err := v.kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := []Entry{}
	for name := range lister.Keys() {
		e, err := v.kv.Get(ctx, name)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Name: name, ChangedAt: e.Created().UTC()})
	}
	return out, nil
}
