package sdk_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/conveyor/conveyor/sdk"
	"github.com/google/go-cmp/cmp"
)

func TestParkedEventsAgainstCannedAnswers(t *testing.T) {
	var removed []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodDelete && r.URL.Path == "/admin/parked/2":
			removed = append(removed, r.URL.Path)
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodDelete:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"title":"Not Found","status":404,"detail":"parked event 7: not found"}`)
		case r.URL.Path == "/admin/parked" && r.URL.Query().Get("continue") == "":
			io.WriteString(w, `{"items":[{"id":1,"consumer":"projector","sequence":7,"type":"ResourceCreated.v1","error":"bad spec","parkedAt":"2026-11-24T09:30:00Z","body":{"spec":{}}}],"continue":"1"}`)
		case r.URL.Path == "/admin/parked" && r.URL.Query().Get("continue") == "1":
			io.WriteString(w, `{"items":[{"id":2,"consumer":"intake","error":"undecodable","parkedAt":"2026-11-24T09:31:00Z"}]}`)
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
	all, err := sdk.All(ctx, c.ParkedEvents)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range all {
		got = append(got, p.Consumer+" "+p.Error+" "+string(p.Body))
	}
	if diff := cmp.Diff([]string{`projector bad spec {"spec":{}}`, "intake undecodable "}, got); diff != "" || all[0].ID != 1 || all[0].Sequence != 7 {
		t.Errorf("all parked events (-want +got):\n%s%+v", diff, all)
	}
	if err := c.RemoveParkedEvent(ctx, 2); err != nil || len(removed) != 1 {
		t.Errorf("remove 2: %v, requests %v", err, removed)
	}
	if err := c.RemoveParkedEvent(ctx, 7); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("remove 7: %v, want ErrNotFound", err)
	}
}
