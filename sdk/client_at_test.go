package sdk_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/conveyor/conveyor/sdk"
)

// TestClientSendsAt: the moment reaches the server intact, a time zone's
// "+" included, and no moment means no parameter.
func TestClientSendsAt(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path+" at="+r.URL.Query().Get("at")+" has="+map[bool]string{true: "yes", false: "no"}[r.URL.Query().Has("at")])
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, err := sdk.NewClient(sdk.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, call := range []func() error{
		func() error { _, err := c.ResourceAt(ctx, "build", "app-1", "2026-03-01T12:00:00+02:00"); return err },
		func() error { _, err := c.ResourceAt(ctx, "build", "app-1", ""); return err },
		func() error { _, err := c.RunAt(ctx, "6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a11", "42"); return err },
	} {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"/resources/build/app-1 at=2026-03-01T12:00:00+02:00 has=yes",
		"/resources/build/app-1 at= has=no",
		"/runs/6f1c1f0e-5a8a-4d53-9a43-0d8f6b7b1a11 at=42 has=yes",
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("request %d: %q, want %q", i, got, want[i])
		}
	}
}
