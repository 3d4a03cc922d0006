package domain_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/conveyor/conveyor/domain"
)

// What a StatusReportFailed keeps of the host's answer: no token, one
// line, valid UTF-8, at most MaxReportMessage bytes.
func TestReportMessageKeepsNoTokenAndIsBounded(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"the token echoed", "401: bad token ghp_s3cr3t\n\tfor acme/app", "401: bad token [token] for acme/app"},
		{"short", "503 Service Unavailable", "503 Service Unavailable"},
	} {
		if got := domain.ReportMessage(tc.in, []byte("ghp_s3cr3t")); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	long := domain.ReportMessage(strings.Repeat("é", 3000)+"ghp_s3cr3t", []byte("ghp_s3cr3t"))
	if len(long) > domain.MaxReportMessage || !utf8.ValidString(long) || !strings.HasSuffix(long, "…") || strings.Contains(long, "ghp_") {
		t.Errorf("a long answer kept as %d bytes (valid UTF-8: %v): %q", len(long), utf8.ValidString(long), long)
	}
}
