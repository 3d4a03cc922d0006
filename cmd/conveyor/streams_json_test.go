package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/conveyor/conveyor/adapters/eventjson"
	"github.com/google/go-cmp/cmp"
)

// TestEventStreamSendsTheLogsJSON: the event stream sends each event as
// the log stores it, with its sequence, without decoding it: the same JSON
// as GET /events, and the same as the event decoded and encoded again (as
// the stream once sent it); a type filter keeps only that type, also among
// the events one command stored together.
func TestEventStreamSendsTheLogsJSON(t *testing.T) {
	s := startServer(t, nil)
	runID := finishedRun(t, s, 1, 1)
	page := s.must(http.StatusOK, "GET", "/events?limit=1000", nil)["items"].([]any)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	read := func(path string, n int) []json.RawMessage {
		t.Helper()
		c, _, err := websocket.Dial(ctx, wsURL(s, path), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		var got []json.RawMessage
		for len(got) < n {
			_, data, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("%s after %d events: %v", path, len(got), err)
			}
			got = append(got, data)
		}
		return got
	}
	for i, raw := range read("/events/stream", len(page)) {
		var sent any
		if err := json.Unmarshal(raw, &sent); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(page[i], sent); diff != "" {
			t.Errorf("event %d: the stream and GET /events differ (-page +stream):\n%s", i, diff)
		}
		var seq struct{ Sequence uint64 }
		_ = json.Unmarshal(raw, &seq)
		decoded, err := eventjson.DecodeAt(stripSequence(t, raw), seq.Sequence)
		if err != nil || len(decoded) != 1 {
			t.Fatalf("event %d: %v", i, err)
		}
		again, _ := json.Marshal(decoded[0])
		var was any
		_ = json.Unmarshal(again, &was)
		if diff := cmp.Diff(was, sent); diff != "" {
			t.Errorf("event %d: decoded and encoded again it differs (-again +stream):\n%s", i, diff)
		}
	}
	for _, raw := range read("/events/stream?type=StepDispatched.v1&runid="+runID, 2) {
		var e struct{ Type, CorrelationID string }
		_ = json.Unmarshal(raw, &e)
		if e.Type != "StepDispatched.v1" || e.CorrelationID != runID {
			t.Errorf("the type filter let through %s of %s", e.Type, e.CorrelationID)
		}
	}
}

// stripSequence is a streamed event without the sequence the store adds.
func stripSequence(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "sequence")
	out, _ := json.Marshal(m)
	return out
}

// finishedRun runs pipeline ci once for resource build/app-1, its
// compiler logging compiled lines and its uploader uploaded, and returns
// the Run ID once the run has ended.
func finishedRun(t *testing.T, s *testServer, compiled, uploaded int) string {
	t.Helper()
	runDriver(t, s, "compiler", chatty(compiled, 0))
	runDriver(t, s, "uploader", chatty(uploaded, 0))
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	s.waitRun(runID)
	return runID
}
