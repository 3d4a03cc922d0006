package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/conveyor/conveyor/sdk"
)

// TestEventsTableFitsAHundredColumns: `conveyor events` writes each event
// in at most 100 columns, whatever the lengths of its type, aggregate id,
// correlation id and actor; a run's id once (its aggregate, not again as
// its run), the step and attempt an event is about, and a note when
// events share a SEQ.
func TestEventsTableFitsAHundredColumns(t *testing.T) {
	runID := "8f14e45f-ceea-4e7a-9c2b-7f1d0c5b2a61"
	long := strings.Repeat("x", 80)
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	events := []sdk.Event{
		{Sequence: 5, Time: at, Type: "StepDispatched.v1", Aggregate: "run", AggregateID: runID, CorrelationID: runID,
			Actor: &sdk.Actor{Kind: "server", Name: "engine"}, Raw: json.RawMessage(`{"step":"compile","attempt":2}`)},
		{Sequence: 5, Time: at, Type: "RunSucceeded.v1", Aggregate: "run", AggregateID: runID, CorrelationID: runID},
		{Sequence: 6, Time: at, Type: "ResourceDefinitionCreated" + long, Aggregate: "definition" + long, AggregateID: long,
			CorrelationID: long, Actor: &sdk.Actor{Kind: "token", Name: long}, Raw: json.RawMessage(`{"step":"` + long + `"}`)},
	}
	var out bytes.Buffer
	table := &eventsTable{w: &out}
	table.header()
	for _, e := range events {
		if err := table.row(e); err != nil {
			t.Fatal(err)
		}
	}
	table.close()
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("a line of %d columns: %q", n, l)
		}
	}
	if first := lines[1]; strings.Count(first, runID[:8]) != 1 || !strings.Contains(first, "compile#2") || strings.Contains(first, runID) {
		t.Errorf("the dispatch's line %q: want the run's short id once and compile#2", first)
	}
	if !strings.Contains(out.String(), "Events on one SEQ were appended together") {
		t.Errorf("no note on the shared SEQ:\n%s", out.String())
	}
}
