package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestUIRoutes: with authentication on, the UI's files are served without
// a token (they hold no data) while the API they call still needs one, and
// paths the UI does not serve stay problem+json 404s.
func TestUIRoutes(t *testing.T) {
	s := startServer(t, nil)
	client := &http.Client{Transport: withoutToken}
	for _, c := range []struct {
		path, wantType string
		want           int
	}{
		{"/", "text/html", http.StatusOK},
		{"/docs", "text/html", http.StatusOK},
		{"/ui/app.js", "javascript", http.StatusOK},
		{"/docs/redoc.standalone.js", "javascript", http.StatusOK},
		{"/runs", "application/problem+json", http.StatusUnauthorized},
		{"/nope", "application/problem+json", http.StatusUnauthorized},
	} {
		res, err := client.Get(s.at.API + c.path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want || !strings.Contains(res.Header.Get("Content-Type"), c.wantType) {
			t.Errorf("GET %s without a token: %d %s, want %d %s", c.path, res.StatusCode, res.Header.Get("Content-Type"), c.want, c.wantType)
		}
	}
	if status, _ := s.call("GET", "/nope", nil); status != http.StatusNotFound {
		t.Errorf("GET /nope with a token: %d, want 404", status)
	}
}
