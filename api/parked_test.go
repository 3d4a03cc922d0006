package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/parking"
	"github.com/conveyor/conveyor/api"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/projections"
	"github.com/google/go-cmp/cmp"
)

// Ports the parked-event endpoints never call.
type (
	unusedLogs   struct{ api.Logs }
	unusedEvents struct{ api.EventLog }
)

// parkedAPI serves the API with a real parking place on an embedded NATS;
// nats is its readiness check, failing while natsDown is set.
type parkedAPI struct {
	t        *testing.T
	url      string
	parked   *parking.Store
	natsDown atomic.Bool
}

func startParkedAPI(t *testing.T, withParking bool) *parkedAPI {
	t.Helper()
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	a := &parkedAPI{t: t}
	deps := api.Deps{
		Commands: new(commands.Handler), Queries: projections.NewReadModel(projections.NewMemStore()),
		Logs: unusedLogs{}, Events: unusedEvents{},
		Checks: map[string]api.Check{"nats": func(context.Context) error {
			if a.natsDown.Load() {
				return errors.New("no servers available")
			}
			return nil
		}},
	}
	if withParking {
		store, err := parking.New(context.Background(), js, parking.Config{})
		if err != nil {
			t.Fatal(err)
		}
		a.parked, deps.Parked = store, store
	}
	s, err := api.New(api.Config{}, deps)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

func (a *parkedAPI) park(consumer string, seq uint64, reason string) {
	a.t.Helper()
	err := a.parked.Park(context.Background(), projections.ParkedEvent{Consumer: consumer, Sequence: seq, Type: "ResourceCreated.v1",
		Aggregate: "resource", AggregateID: "build/app-1", Error: reason, ParkedAt: time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC),
		Body: json.RawMessage(`{"spec":{}}`)})
	if err != nil {
		a.t.Fatal(err)
	}
}

// call returns the status and the body of a request.
func (a *parkedAPI) call(method, path string) (int, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// decode calls and decodes a JSON answer, failing unless the status is want.
func (a *parkedAPI) decode(want int, method, path string, out any) {
	a.t.Helper()
	status, body := a.call(method, path)
	if status != want {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, body)
	}
	if err := json.Unmarshal([]byte(body), out); err != nil {
		a.t.Fatalf("%s %s: %v: %s", method, path, err, body)
	}
}

type parkedPage struct {
	Items []struct {
		ID       uint64    `json:"id"`
		Consumer string    `json:"consumer"`
		Sequence uint64    `json:"sequence"`
		Type     string    `json:"type"`
		Error    string    `json:"error"`
		ParkedAt time.Time `json:"parkedAt"`
		Body     any       `json:"body"`
	} `json:"items"`
	Continue *string `json:"continue"`
}

// ids are the ids of a page, and its continue ("-" when absent).
func (p parkedPage) ids() ([]uint64, string) {
	var ids []uint64
	for _, it := range p.Items {
		ids = append(ids, it.ID)
	}
	if p.Continue == nil {
		return ids, "-"
	}
	return ids, *p.Continue
}

func TestParkedEventsListAndRemove(t *testing.T) {
	a := startParkedAPI(t, true)
	var page parkedPage
	a.decode(http.StatusOK, "GET", "/admin/parked", &page)
	if page.Items == nil || len(page.Items) != 0 || page.Continue != nil {
		t.Errorf("nothing parked: %+v, want items [] and no continue", page)
	}

	a.park("projector", 7, "cannot apply ResourceCreated.v1: spec is not an object")
	a.park("engine", 9, "run 9 is unknown")
	a.park("intake", 0, "undecodable result")

	page = parkedPage{}
	a.decode(http.StatusOK, "GET", "/admin/parked?limit=2", &page)
	if ids, next := page.ids(); !cmp.Equal(ids, []uint64{1, 2}) || next != "2" {
		t.Errorf("first page: ids %v, continue %q; want [1 2], \"2\"", ids, next)
	}
	first := page.Items[0]
	if first.Consumer != "projector" || first.Sequence != 7 || first.Type != "ResourceCreated.v1" ||
		first.Error != "cannot apply ResourceCreated.v1: spec is not an object" || !first.ParkedAt.Equal(time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)) ||
		!cmp.Equal(first.Body, map[string]any{"spec": map[string]any{}}) {
		t.Errorf("first entry: %+v", first)
	}
	for _, path := range []string{"/admin/parked?limit=2&after=2", "/admin/parked?limit=2&continue=2", "/admin/parked/?limit=2&after=0&continue=2"} {
		page = parkedPage{}
		a.decode(http.StatusOK, "GET", path, &page)
		if ids, next := page.ids(); !cmp.Equal(ids, []uint64{3}) || next != "-" {
			t.Errorf("GET %s: ids %v, continue %q; want [3] and none", path, ids, next)
		}
	}

	if status, body := a.call("DELETE", "/admin/parked/2"); status != http.StatusNoContent || body != "" {
		t.Errorf("remove 2: %d %q, want 204 and no body", status, body)
	}
	page = parkedPage{}
	a.decode(http.StatusOK, "GET", "/admin/parked", &page)
	if ids, next := page.ids(); !cmp.Equal(ids, []uint64{1, 3}) || next != "-" {
		t.Errorf("after removing 2: ids %v, continue %q; want [1 3] and none", ids, next)
	}

	var problem struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	for _, id := range []string{"2", "99"} {
		a.decode(http.StatusNotFound, "DELETE", "/admin/parked/"+id, &problem)
		if want := "parked event " + id + ": not found"; problem.Status != 404 || problem.Detail != want {
			t.Errorf("remove %s: %+v, want 404 %q", id, problem, want)
		}
	}
	for _, path := range []string{"/admin/parked/first", "/admin/parked?continue=abc", "/admin/parked?limit=5000"} {
		method := "GET"
		if !strings.Contains(path, "?") {
			method = "DELETE"
		}
		if status, body := a.call(method, path); status != http.StatusUnprocessableEntity {
			t.Errorf("%s %s: %d, want 422: %s", method, path, status, body)
		}
	}
	if n, _ := a.parked.Count(context.Background()); n != 2 {
		t.Errorf("%d entries left, want 2", n)
	}
}

type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func TestReadyAndMetricsReportParkedEvents(t *testing.T) {
	a := startParkedAPI(t, true)
	var ready readiness
	a.decode(http.StatusOK, "GET", "/ready", &ready)
	if want := (readiness{Status: "ready", Checks: map[string]string{"nats": "ok", "parked": "ok"}}); !cmp.Equal(ready, want) {
		t.Errorf("nothing parked: %+v, want %+v", ready, want)
	}
	if _, metrics := a.call("GET", "/metrics"); !strings.Contains(metrics, "\nconveyor_parked_events 0\n") {
		t.Errorf("metrics with nothing parked lack conveyor_parked_events 0:\n%s", metrics)
	}

	a.park("projector", 7, "bad spec")
	a.park("engine", 9, "unknown run")
	ready = readiness{}
	a.decode(http.StatusOK, "GET", "/ready", &ready)
	want := readiness{Status: "degraded", Checks: map[string]string{"nats": "ok", "parked": "2 events parked; see GET /admin/parked"}}
	if !cmp.Equal(ready, want) {
		t.Errorf("two parked: %+v, want %+v", ready, want)
	}
	if _, metrics := a.call("GET", "/metrics"); !strings.Contains(metrics, "\nconveyor_parked_events 2\n") ||
		!strings.Contains(metrics, "# TYPE conveyor_parked_events gauge") {
		t.Errorf("metrics lack the gauge conveyor_parked_events 2:\n%s", metrics)
	}

	// A failing dependency still makes the server unavailable.
	a.natsDown.Store(true)
	ready = readiness{}
	a.decode(http.StatusServiceUnavailable, "GET", "/ready", &ready)
	want = readiness{Status: "unavailable", Checks: map[string]string{"nats": "no servers available", "parked": "2 events parked; see GET /admin/parked"}}
	if !cmp.Equal(ready, want) {
		t.Errorf("a dependency down: %+v, want %+v", ready, want)
	}
	a.natsDown.Store(false)

	if err := a.parked.Remove(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	ready = readiness{}
	a.decode(http.StatusOK, "GET", "/ready", &ready)
	if ready.Status != "degraded" || ready.Checks["parked"] != "1 event parked; see GET /admin/parked" {
		t.Errorf("one parked: %+v", ready)
	}
	if err := a.parked.Remove(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	ready = readiness{}
	a.decode(http.StatusOK, "GET", "/ready", &ready)
	if ready.Status != "ready" || ready.Checks["parked"] != "ok" {
		t.Errorf("all removed: %+v", ready)
	}
}

// TestWithoutParkingPlace: without Deps.Parked the endpoints are absent and
// readiness says nothing of parked events.
func TestWithoutParkingPlace(t *testing.T) {
	a := startParkedAPI(t, false)
	if status, body := a.call("GET", "/admin/parked"); status != http.StatusNotFound {
		t.Errorf("GET /admin/parked: %d, want 404: %s", status, body)
	}
	var ready readiness
	a.decode(http.StatusOK, "GET", "/ready", &ready)
	if want := (readiness{Status: "ready", Checks: map[string]string{"nats": "ok"}}); !cmp.Equal(ready, want) {
		t.Errorf("ready: %+v, want %+v", ready, want)
	}
	if _, metrics := a.call("GET", "/metrics"); strings.Contains(metrics, "conveyor_parked_events") {
		t.Error("metrics hold conveyor_parked_events without a parking place")
	}
}
