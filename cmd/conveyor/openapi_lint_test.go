package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// lintDir holds the OpenAPI linters, pinned by its package-lock.json, and
// the Spectral ruleset.
var lintDir = filepath.Join("..", "..", "api", "lint")

// TestOpenAPILint lints the document the server serves, with authentication
// on, as docs/testing.md says: Redocly's recommended rules must find no
// error, Spectral's spectral:oas rules no warning. The linters come from npm
// (npm ci in api/lint, once); without npm the test skips, except under
// CI=true, where it fails.
func TestOpenAPILint(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("npm is not on PATH: CI must lint the OpenAPI document (.ci/run installs nodejs and npm)")
		}
		t.Skip("npm is not on PATH: the OpenAPI document is not linted (install nodejs and npm to run this test)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	installLinters(ctx, t)

	s := startServer(t, nil)
	status, doc := s.callRaw("GET", "/openapi.json", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", status)
	}
	file := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(lintDir, "node_modules", ".bin")
	lint(ctx, t, filepath.Join(bin, "redocly"), "lint", "--extends", "recommended", "--format", "stylish", file)
	lint(ctx, t, filepath.Join(bin, "spectral"), "lint", file, "--ruleset", filepath.Join(lintDir, ".spectral.yaml"),
		"--fail-severity", "warn", "--format", "text")
}

// installLinters runs npm ci in lintDir unless node_modules is as recent as
// the lock file.
func installLinters(ctx context.Context, t *testing.T) {
	t.Helper()
	lock, err := os.Stat(filepath.Join(lintDir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if installed, err := os.Stat(filepath.Join(lintDir, "node_modules", ".package-lock.json")); err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return
	}
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = lintDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", lintDir, err, out)
	}
}

// lint runs a linter that exits non-zero when the document fails it.
func lint(ctx context.Context, t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Errorf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
	}
}
