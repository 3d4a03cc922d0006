package sdk_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/conveyor/conveyor/sdk"
)

// TestClientTrustsCACert: a server over https with a certificate of its own
// is reached with CONVEYOR_CA_CERT naming it, and refused without.
func TestClientTrustsCACert(t *testing.T) {
	var gotType string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotType = r.Header.Get("Content-Type")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	untrusting, err := sdk.NewClient(sdk.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if err := untrusting.DeleteResource(ctx, "build", "app-1"); err == nil {
		t.Error("an unknown certificate was trusted")
	}

	t.Setenv(sdk.EnvCACert, ca)
	c, err := sdk.NewClient(sdk.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteResource(ctx, "build", "app-1"); err != nil {
		t.Fatalf("with %s: %v", sdk.EnvCACert, err)
	}
	_, _ = c.ReplaceResource(ctx, sdk.Resource{Name: "app-1", Type: "build"}, 0)
	if gotType != "application/json" { // the server refuses any other
		t.Errorf("a body was sent as %q", gotType)
	}

	t.Setenv(sdk.EnvCACert, filepath.Join(t.TempDir(), "missing.pem"))
	if _, err := sdk.NewClient(); err == nil {
		t.Error("a missing CA file was accepted")
	}
}
