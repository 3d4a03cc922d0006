package ui_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/api/ui"
)

func serve(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	ui.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// TestPagesCarryTheirPolicy: every page and file of the UI carries a
// Content-Security-Policy that allows scripts from the server only, and
// refuses to be framed.
func TestPagesCarryTheirPolicy(t *testing.T) {
	for _, path := range []string{"/", "/ui/app.js", "/ui/app.css", "/docs", "/docs/redoc.standalone.js"} {
		rec := serve(t, path)
		h := rec.Header()
		if rec.Code != http.StatusOK || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self';") ||
			!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: %d %v", path, rec.Code, h)
		}
	}
	if rec := serve(t, "/ui/missing.js"); rec.Code != http.StatusNotFound {
		t.Errorf("a file that is not there: %d", rec.Code)
	}
}

// TestVendoredRendererIsThePinnedOne: the embedded renderer's sum is the one
// VENDOR.md records for its version.
func TestVendoredRendererIsThePinnedOne(t *testing.T) {
	body := serve(t, "/docs/redoc.standalone.js").Body.Bytes()
	sum := sha256.Sum256(body)
	vendor, err := os.ReadFile("static/VENDOR.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(vendor), hex.EncodeToString(sum[:])) || !strings.Contains(string(vendor), "| "+ui.RedocVersion+" |") {
		t.Errorf("redoc.standalone.js (sha256 %x) is not the file VENDOR.md pins", sum)
	}
}
