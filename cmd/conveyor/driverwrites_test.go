package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPostLogsShowsInRunLogs: a line sent to POST /logs is stored on
// logs.{runid} as a driver publishes it and read back by GET
// /runs/{id}/logs; a viewer may not write one, a driver token may; a line
// without a timestamp gets the time it arrived, not "".
func TestPostLogsShowsInRunLogs(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "compile", "driver": "compiler"}}})
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	sent := time.Now().Unix()
	line := map[string]any{"runid": runID, "driver": "compiler", "pipeline": "ci", "timestamp": "1700000000", "message": "compiling"}
	s.must(http.StatusCreated, "POST", "/logs", line)
	if code, _, body := s.callAs(s.issue("reader", "viewer"), "POST", "/logs", line); code != http.StatusForbidden {
		t.Fatalf("viewer POST /logs: %d %s", code, body)
	}
	if code, _, body := s.callAs(s.issue("compiler", "driver"), "POST", "/logs", map[string]any{"runid": runID, "driver": "compiler", "message": "done"}); code != http.StatusCreated {
		t.Fatalf("driver POST /logs: %d %s", code, body)
	}
	if code, _ := s.call("POST", "/logs", map[string]any{"runid": "a.b", "message": "x"}); code != http.StatusUnprocessableEntity {
		t.Fatalf("runid with a dot: %d", code)
	}
	stored := storedLogs(t, s.js, runID)
	if len(stored) != 2 || stored[0]["message"] != "compiling" || stored[0]["timestamp"] != "1700000000" || stored[0]["pipeline"] != "ci" {
		t.Fatalf("stored: %v", stored)
	}
	// The line sent without a timestamp has the time the server received it.
	if ts, err := strconv.ParseInt(fmt.Sprint(stored[1]["timestamp"]), 10, 64); err != nil || ts < sent || ts > time.Now().Unix() {
		t.Errorf("a line without a timestamp was stored with %q, want the Unix seconds it arrived", stored[1]["timestamp"])
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out := s.call("GET", "/runs/"+runID+"/logs", nil)
		items, _ := out["items"].([]any)
		if code == http.StatusOK && len(items) == 2 {
			first := items[0].(map[string]any)
			if first["message"] != "compiling" || first["driver"] != "compiler" {
				t.Fatalf("first line: %v", first)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /runs/%s/logs: %d %v", runID, code, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBroadcastMessage: POST /drivers/broadcast-message answers as the
// original does and publishes the message, with a new id, on `application`;
// it needs an operator.
func TestBroadcastMessage(t *testing.T) {
	s := startServer(t, nil)
	sub, err := s.js.Conn().SubscribeSync("application")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.js.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	code, _, body := s.callAs(s.issue("ops", "operator"), "POST", "/drivers/broadcast-message", map[string]any{"event": "create", "payload": `{"a":1}`, "run_id": "r1"})
	if code != http.StatusOK || strings.TrimSpace(body) != `{"message":"message published"}` {
		t.Fatalf("broadcast: %d %s", code, body)
	}
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(msg.Data, &got); err != nil {
		t.Fatal(err)
	}
	if got["event"] != "create" || got["payload"] != `{"a":1}` || got["run_id"] != "r1" || got["id"] == "" {
		t.Fatalf("published: %v", got)
	}
	if code, _, body := s.callAs(s.issue("reader", "viewer"), "POST", "/drivers/broadcast-message", map[string]any{"event": "x"}); code != http.StatusForbidden {
		t.Fatalf("viewer broadcast: %d %s", code, body)
	}
}
