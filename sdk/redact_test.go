package sdk

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                      "nats://127.0.0.1:4222",
		"nats://user:secret@nats.example:4222":       "nats://user:xxxxx@nats.example:4222",
		"nats://secret@nats.example:4222":            "nats://xxxxx@nats.example:4222",
		"tls://a:secret@n1:4222,tls://a:secret@n2":   "tls://a:xxxxx@n1:4222,tls://a:xxxxx@n2",
		"http://root:secret@etcd:2379":               "http://root:xxxxx@etcd:2379",
		"https://api.example/x?token=secret&limit=1": "https://api.example/x?limit=1&token=xxxxx",
		"user:secret@etcd:2379":                      "xxxxx@etcd:2379",
		"%zz:secret@host":                            "xxxxx@host",
	} {
		got := RedactURL(in)
		if got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "secret") {
			t.Errorf("RedactURL(%q) keeps the secret: %q", in, got)
		}
	}
}
