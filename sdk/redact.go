package sdk

import (
	"net/url"
	"strings"
)

// redacted replaces what authenticates in a URL.
const redacted = "xxxxx"

// RedactURL returns s, a URL or a comma-separated list of them (NATS and
// etcd take lists), fit for logs and error messages: a password becomes
// "xxxxx", and so does a user without a password, which NATS reads as a
// token. Query values named like credentials are hidden too. Something that
// does not parse as a URL keeps only what follows its last "@".
func RedactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = redactOne(p)
	}
	return strings.Join(parts, ",")
}

func redactOne(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Opaque != "" {
		if i := strings.LastIndex(s, "@"); i >= 0 {
			return redacted + s[i:]
		}
		return s
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword {
			u.User = url.UserPassword(u.User.Username(), redacted)
		} else {
			u.User = url.User(redacted)
		}
	}
	if q := u.Query(); len(q) > 0 {
		for k := range q {
			if credentialName(k) {
				q.Set(k, redacted)
			}
		}
		u.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(u.String(), url.QueryEscape(redacted), redacted)
}

func credentialName(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"token", "pass", "secret", "key", "auth", "jwt", "cred"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}
