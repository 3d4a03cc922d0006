package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/parking"
	"github.com/conveyor/conveyor/api"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/projections"
)

// parkedServer serves the API over a parking place on an embedded NATS,
// with the events given parked, and returns its URL and the store.
func parkedServer(t *testing.T, events ...projections.ParkedEvent) (string, *parking.Store) {
	t.Helper()
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	ctx := context.Background()
	store, err := parking.New(ctx, js, parking.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := store.Park(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// The commands, the logs and the event log are not used by these
	// endpoints.
	s, err := api.New(api.Config{}, api.Deps{Commands: new(commands.Handler), Queries: projections.NewReadModel(projections.NewMemStore()),
		Logs: struct{ api.Logs }{}, Events: struct{ api.EventLog }{}, Parked: store})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv.URL, store
}

func projectionsRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runClient(context.Background(), "projections", args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestProjectionsParkedAndUnpark lists parked events as a table and as
// JSON (across pages: more than one page of the server's default), then
// dismisses one.
func TestProjectionsParkedAndUnpark(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.Local)
	events := []projections.ParkedEvent{
		{Consumer: "projector", Sequence: 7, Type: "ResourceCreated.v1", Aggregate: "resource", AggregateID: "build/app-1",
			Error: "cannot apply:\nspec is not an object", ParkedAt: at},
		{Consumer: "intake", Error: "undecodable result", ParkedAt: at, Body: json.RawMessage(`"garbage"`)},
	}
	for i := range 110 {
		events = append(events, projections.ParkedEvent{Consumer: "engine", Sequence: uint64(100 + i), Type: "RunStarted.v1",
			Aggregate: "run", AggregateID: "r", Error: "unknown run", ParkedAt: at})
	}
	url, store := parkedServer(t, events...)

	code, out, errOut := projectionsRun(t, "parked", "--server", url)
	if code != 0 {
		t.Fatalf("parked: exit %d\n%s%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 1+len(events) {
		t.Fatalf("parked printed %d lines, want a header and %d rows:\n%s", len(lines), len(events), out)
	}
	// The header, the first two rows, and the last (from the second page).
	for i, want := range map[int]string{
		0:           "ID CONSUMER SEQUENCE TYPE AGGREGATE PARKED AT ERROR",
		1:           "1 projector 7 ResourceCreated.v1 resource/build/app-1 2026-11-24 09:30:00 cannot apply: spec is not an object",
		2:           "2 intake - - - 2026-11-24 09:30:00 undecodable result",
		len(events): "112 engine 209 RunStarted.v1 run/r 2026-11-24 09:30:00 unknown run",
	} {
		if got := strings.Join(strings.Fields(lines[i]), " "); got != want {
			t.Errorf("line %d: %q, want the cells %q", i, lines[i], want)
		}
	}

	code, out, errOut = projectionsRun(t, "parked", "-o", "json", "--server", url)
	var listed []struct {
		ID    uint64          `json:"id"`
		Body  json.RawMessage `json:"body"`
		Error string          `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &listed); code != 0 || err != nil {
		t.Fatalf("parked -o json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if len(listed) != len(events) || listed[1].ID != 2 || string(listed[1].Body) != `"garbage"` {
		t.Errorf("parked -o json: %d entries, the second %+v", len(listed), listed[1])
	}

	code, out, errOut = projectionsRun(t, "unpark", "2", "--server", url)
	if code != 0 || out != "parked event 2 removed\n" {
		t.Errorf("unpark 2: exit %d\n%s%s", code, out, errOut)
	}
	if n, _ := store.Count(context.Background()); n != uint64(len(events)-1) {
		t.Errorf("%d events parked after unpark, want %d", n, len(events)-1)
	}
	code, out, errOut = projectionsRun(t, "unpark", "2", "--server", url)
	if code != exitFailed || errOut != "conveyor: unpark 2: parked event 2: not found\n" {
		t.Errorf("unpark 2 again: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, args := range [][]string{{"unpark"}, {"unpark", "two"}, {"unpark", "0"}, {"unpark", "1", "2"}, {"parked", "extra"}} {
		if code, _, _ := projectionsRun(t, append(args, "--server", url)...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestProjectionsParkedAgainstAServerWithout: a server that keeps no parked
// events answers 404, which the command reports.
func TestProjectionsParkedAgainstAServerWithout(t *testing.T) {
	s, err := api.New(api.Config{}, api.Deps{Commands: new(commands.Handler), Queries: projections.NewReadModel(projections.NewMemStore()),
		Logs: struct{ api.Logs }{}, Events: struct{ api.EventLog }{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	if code, out, errOut := projectionsRun(t, "parked", "--server", srv.URL); code != exitFailed || !strings.HasPrefix(errOut, "conveyor: parked events: ") {
		t.Errorf("parked: exit %d, want 1\n%s%s", code, out, errOut)
	}
}
