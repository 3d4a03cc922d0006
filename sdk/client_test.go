package sdk_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/sdk"
)

func TestClientAgainstCannedAnswers(t *testing.T) {
	var gotIfMatch, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Path == "/resources/build/nope":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"title":"Not Found","status":404,"detail":"resource \"build/nope\" not found"}`)
		case r.Method == http.MethodPut:
			gotIfMatch = r.Header.Get("If-Match")
			b, _ := io.ReadAll(r.Body)
			gotBody = string(b)
			w.Header().Set("ETag", `"2"`)
			w.Header().Set("Conveyor-Run-Id", "r-2")
			io.WriteString(w, `{"name":"app-1","resource":"build","metadata":{"version":"2"},"spec":{}}`)
		case r.URL.Path == "/resources" && r.URL.Query().Get("continue") == "":
			io.WriteString(w, `{"items":[{"name":"a","resource":"build","spec":{}}],"continue":"t1"}`)
		case r.URL.Path == "/resources":
			io.WriteString(w, `{"items":[{"name":"b","resource":"build","spec":{}}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := sdk.NewClient(sdk.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.DeleteResource(ctx, "build", "app-1"); err != nil {
		t.Errorf("delete with an empty 204: %v", err)
	}
	_, err = c.Resource(ctx, "build", "nope")
	var apiErr *sdk.APIError
	if !errors.Is(err, sdk.ErrNotFound) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Detail, "not found") {
		t.Errorf("404: %v", err)
	}
	res, err := c.ReplaceResource(ctx, sdk.Resource{Name: "app-1", Type: "build"}, 1)
	if err != nil || res.RunID != "r-2" || res.Version != 2 || res.Resource.Type != "build" || gotIfMatch != `"1"` || !strings.Contains(gotBody, `"name":"app-1"`) {
		t.Errorf("replace: %+v %v, If-Match %q", res, err, gotIfMatch)
	}
	all, err := sdk.All(ctx, func(ctx context.Context, p sdk.Page) (sdk.List[sdk.Resource], error) {
		return c.Resources(ctx, "", p)
	})
	if err != nil || len(all) != 2 || all[1].Name != "b" {
		t.Errorf("all pages: %v %v", all, err)
	}
}

func TestBaseURLFromEnv(t *testing.T) {
	cases := []struct{ host, port, want string }{
		{"", "", "http://localhost:8080"},
		{"conveyor.internal", "9090", "http://conveyor.internal:9090"},
		{"https://ci.example.com", "443", "https://ci.example.com:443"},
		{"http://10.0.0.1:8081", "", "http://10.0.0.1:8081"},
	}
	for _, tc := range cases {
		env := map[string]string{"CONVEYOR_SERVER_HOST": tc.host, "CONVEYOR_SERVER_PORT": tc.port}
		if got := sdk.BaseURLFromEnv(func(k string) string { return env[k] }); got != tc.want {
			t.Errorf("host %q port %q: %s, want %s", tc.host, tc.port, got, tc.want)
		}
	}
}

// A server that hands back a token it gave before (as one that ignores
// continue does) ends the walk with ErrPagingLoop instead of looping.
func TestAllStopsOnARepeatedToken(t *testing.T) {
	calls := 0
	_, err := sdk.All(context.Background(), func(context.Context, sdk.Page) (sdk.List[string], error) {
		calls++
		return sdk.List[string]{Items: []string{"same"}, Continue: "again"}, nil
	})
	if !errors.Is(err, sdk.ErrPagingLoop) || calls != 2 {
		t.Errorf("after %d calls: %v, want ErrPagingLoop after 2", calls, err)
	}
}
