package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/conveyor/conveyor/sdk"
)

// eventsTable writes `conveyor events` in 100 columns: a run's id as its
// first eight characters (the whole one is in `conveyor trace` and the
// API), the step and attempt (step#attempt) an event is about, the run it
// belongs to when that is not its aggregate, and who caused it (a token's
// name, the server's "engine", a trigger as trigger:NAME). Several events can share a
// SEQ: a command's events are appended together, as one message of the
// log; Close says so once when it happened.
type eventsTable struct {
	w       io.Writer
	last    uint64
	printed bool
	shared  bool
}

// eventsHeader is the table's first line.
const eventsHeader = "   SEQ TIME         EVENT                   AGGREGATE             STEP       RUN      BY"

func (t *eventsTable) header() { fmt.Fprintln(t.w, eventsHeader) }

func (t *eventsTable) row(e sdk.Event) error {
	if t.printed && e.Sequence == t.last {
		t.shared = true
	}
	t.printed, t.last = true, e.Sequence
	var about struct {
		Step    string `json:"step"`
		Attempt int    `json:"attempt"`
	}
	_ = json.Unmarshal(e.Raw, &about)
	step := about.Step
	if step != "" && about.Attempt > 0 {
		step += "#" + strconv.Itoa(about.Attempt)
	}
	aggregate := e.Aggregate + "/" + e.AggregateID
	if e.Aggregate == "run" {
		aggregate = "run/" + short(e.AggregateID)
	}
	run := ""
	if e.CorrelationID != e.AggregateID {
		run = cut(short(e.CorrelationID), 8)
	}
	_, err := fmt.Fprintf(t.w, "%6d %-12s %-23s %-21s %-10s %-8s %s\n", e.Sequence, e.Time.Local().Format("15:04:05.000"),
		cut(e.Type, 23), cut(aggregate, 21), orDash(cut(step, 10)), orDash(run), cut(actorName(e.Actor), 14))
	return err
}

// close ends the table with a note on shared sequences, when there were.
func (t *eventsTable) close() {
	if t.shared {
		fmt.Fprintln(t.w, "\nEvents on one SEQ were appended together, by one command, as one message of the log.")
	}
}

// cut is s in at most n runes, its end replaced by "…" when longer.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// actorName is who caused an event, short: a token's or the server's name
// (engine), else KIND:NAME (a trigger's).
func actorName(a *sdk.Actor) string {
	switch {
	case a == nil:
		return ""
	case a.Kind == "token" || a.Kind == "server":
		return a.Name
	}
	return a.Kind + ":" + a.Name
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
