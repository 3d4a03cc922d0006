package logmask

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
)

const secret = "hunter2-Pa55/w+rd"

// Each form an attacker used, or a careless build script would print,
// leaves nothing of the value in the line.
func TestEveryFormOfTheValueIsMasked(t *testing.T) {
	m := NewMatcher([]string{secret, "ab"})
	basic := base64.StdEncoding.EncodeToString([]byte("deploy:" + secret))
	for name, line := range map[string]string{
		"as is":          "token=" + secret + " done",
		"upper case":     "TOKEN=" + strings.ToUpper(secret),
		"lower case":     strings.ToLower(secret),
		"base64":         "echo " + base64.StdEncoding.EncodeToString([]byte(secret)),
		"base64 url":     base64.RawURLEncoding.EncodeToString([]byte(secret)),
		"basic auth":     "Authorization: Basic " + basic,
		"base64 aligned": base64.StdEncoding.EncodeToString([]byte("x" + secret + "y")),
		"query escaped":  "https://x/?p=" + url.QueryEscape(secret),
		"path escaped":   "https://x/" + url.PathEscape(secret),
		"lower hex":      strings.ToLower(url.QueryEscape(secret)),
		"hex":            hex.EncodeToString([]byte(secret)),
		"twice":          secret + secret,
	} {
		got, _ := m.Line(line, "")
		for _, form := range forms(secret) {
			if len(form) >= 6 && strings.Contains(strings.ToLower(got), strings.ToLower(form)) {
				t.Errorf("%s: %q still holds %q", name, got, form)
			}
		}
		if !strings.Contains(got, Mask) {
			t.Errorf("%s: %q masks nothing", name, got)
		}
	}
	// A value under MinSecretLen is left alone: "ab" is everywhere.
	if got, _ := m.Line("about a cab", ""); got != "about a cab" {
		t.Errorf("a two-byte secret was masked: %q", got)
	}
}

// A value cut by a line break of one stream: its end is masked in the
// second line from what the first carried; the first line loses its end
// when that is at least half the value.
func TestAValueCutByALineBreakIsMasked(t *testing.T) {
	m := NewMatcher([]string{secret})
	for cut := 1; cut < len(secret); cut++ {
		first, carry := m.Line("x="+secret[:cut], "")
		second, _ := m.Line(secret[cut:]+" rest", carry)
		if !strings.HasSuffix(second, Mask+" rest") {
			t.Errorf("cut at %d: second line %q", cut, second)
		}
		if 2*cut >= len(secret) && cut >= MinSecretLen && first != "x="+Mask {
			t.Errorf("cut at %d: first line %q keeps the value's start", cut, first)
		}
	}
	// Lines that only look like a cut value are left alone.
	line := "hunter is not a secret"
	if got, _ := m.Line(line, ""); got != line {
		t.Errorf("%q became %q", line, got)
	}
}

func forms(v string) []string {
	return []string{v, url.QueryEscape(v), hex.EncodeToString([]byte(v)),
		base64.StdEncoding.EncodeToString([]byte(v))[:len(v)], base64.RawURLEncoding.EncodeToString([]byte(v))[:len(v)]}
}

// A value of several lines (a private key) is logged one line at a time:
// each of its lines is masked on its own.
func TestEachLineOfAValueOfSeveralLinesIsMasked(t *testing.T) {
	key := "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END KEY-----\n"
	m := NewMatcher([]string{key})
	carry := ""
	var got []string
	for l := range strings.Lines(key) {
		var masked string
		masked, carry = m.Line(strings.TrimSuffix(l, "\n"), carry)
		got = append(got, masked)
	}
	for _, line := range got {
		if line != Mask {
			t.Errorf("lines of the key stored as %q", got)
			break
		}
	}
}
