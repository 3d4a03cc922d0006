package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Issue 23, item 8: masking happened in the SDK alone, so POST /logs stored
// a secret in clear, and its base64 form, its upper case or a value cut
// between two lines passed the SDK. The server masks every line it stores
// now, from POST /logs and from a driver's own JetStream publish alike,
// against the secrets the run is granted; nothing of the value is in the
// stream, nor anywhere in the data directory once the server stopped.
func TestTheServerMasksSecretsInEveryStoredLine(t *testing.T) {
	const value = "hunter2-registry-password"
	s := startServer(t, nil)
	s.must(http.StatusOK, "PUT", "/secrets/registry", map[string]any{"value": value})
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build", "steps": []map[string]any{
		{"id": "push", "driver": "pusher", "secrets": []string{"registry"}}}})
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)

	b64 := base64.StdEncoding.EncodeToString([]byte(value))
	basic := base64.StdEncoding.EncodeToString([]byte("deploy:" + value))
	forms := map[string]string{
		"as is":         "password " + value,
		"base64":        "echo " + b64,
		"basic auth":    "Authorization: Basic " + basic,
		"upper case":    "PASSWORD " + strings.ToUpper(value),
		"query escaped": "GET /login?p=" + url.QueryEscape(value+"&x"),
	}
	for _, message := range forms {
		s.must(http.StatusCreated, "POST", "/logs", map[string]any{"runid": runID, "driver": "pusher", "pipeline": "ci",
			"timestamp": "1795510841", "message": message})
	}

	// The driver itself, with its own NATS credentials, publishes as the
	// original runtime does: the value cut between two lines, and in a label.
	js := driverJetStream(t, s, "pusher")
	cut := (len(value) + 1) / 2 // half or more is masked at the line's end (docs/security.md)
	for _, line := range []map[string]any{
		{"message": "token: " + value[:cut]},
		{"message": value[cut:] + " (end)"},
		{"message": "labelled", "labels": map[string]string{"auth": value}},
	} {
		line["runid"], line["driver"], line["pipeline"], line["step"], line["attempt"] = runID, "pusher", "ci", "push", 1
		body, _ := json.Marshal(line)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := js.Publish(ctx, "logs."+runID, body); err != nil {
			t.Fatalf("a driver's publish of a log line: %v", err)
		}
		cancel()
	}

	stored := storedLogLines(t, s, runID)
	if len(stored) != len(forms)+3 {
		t.Fatalf("%d lines stored, want %d:\n%s", len(stored), len(forms)+3, strings.Join(stored, "\n"))
	}
	clear := []string{value, strings.ToUpper(value), b64[:len(b64)-4], value[:cut], value[cut:]}
	for _, line := range stored {
		for _, c := range clear {
			if strings.Contains(line, c) {
				t.Errorf("stored line holds %q:\n%s", c, line)
			}
		}
	}
	if logs := joinedLogs(s, runID); strings.Count(logs, "***") < len(forms)+2 {
		t.Errorf("GET /runs/{id}/logs:\n%s", logs)
	}

	// Nothing in clear reached the disk: the value is in no file of the
	// data directory once the server stopped and flushed everything.
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	_ = filepath.WalkDir(s.cfg.DataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, c := range []string{value, strings.ToUpper(value)} {
			if bytes.Contains(data, []byte(c)) {
				t.Errorf("%s holds %q", path, c)
			}
		}
		return nil
	})
}

// driverJetStream is JetStream as driver name uses it, with its own NATS
// credentials, for the test.
func driverJetStream(t *testing.T, s *testServer, name string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(driverNATS(t, s.at, name), nats.CustomInboxPrefix("_INBOX."+name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// storedLogLines is every message of run in the `logs` stream, as stored.
func storedLogLines(t *testing.T, s *testServer, runID string) []string {
	t.Helper()
	ctx := context.Background()
	cons, err := s.js.OrderedConsumer(ctx, "logs", jetstream.OrderedConsumerConfig{FilterSubjects: []string{"logs." + runID}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		batch, err := cons.Fetch(100, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			out = append(out, string(m.Data()))
			n++
		}
		if n == 0 {
			return out
		}
	}
}

// A run's id is known before the run is recorded (POST /resources answers
// it first), and POST /logs takes any id: a line of a run the log does not
// hold (yet) is masked against every secret the server holds, since the
// secrets it will be granted are not known.
func TestALineOfARunNotRecordedIsMaskedAgainstEverySecret(t *testing.T) {
	const value = "hunter2-registry-password"
	s := startServer(t, nil)
	s.must(http.StatusOK, "PUT", "/secrets/registry", map[string]any{"value": value})
	const runID = "5b0f8e57-3c1e-4f2a-9d7b-6a4c2e1f0a99" // never recorded
	s.must(http.StatusCreated, "POST", "/logs", map[string]any{"runid": runID, "driver": "pusher", "pipeline": "ci",
		"timestamp": "1795510841", "message": "password " + value})
	stored := storedLogLines(t, s, runID)
	if len(stored) != 1 || strings.Contains(stored[0], value) || !strings.Contains(stored[0], "password ***") {
		t.Errorf("stored %q, want the one line with the value masked", stored)
	}
}

// A driver's line may hold more than the fields every line has: objects,
// arrays, numbers. Each of their strings is masked, however deep, and so
// is a number that holds a secret; GET /runs/{id}/logs and GET /logs serve
// only the fields every line has (the number is one: `timestamp`), the
// stream keeps the rest, and neither holds a secret.
func TestTheServerMasksSecretsNestedInALine(t *testing.T) {
	const value, pin = "hunter2-registry-password", "48151623"
	s := startServer(t, nil)
	s.must(http.StatusOK, "PUT", "/secrets/registry", map[string]any{"value": value})
	s.must(http.StatusOK, "PUT", "/secrets/pin", map[string]any{"value": pin})
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build", "steps": []map[string]any{
		{"id": "push", "driver": "pusher", "secrets": []string{"registry", "pin"}}}})
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)

	js := driverJetStream(t, s, "pusher")
	line := `{"runid":"` + runID + `","driver":"pusher","pipeline":"ci","step":"push","attempt":1,"timestamp":` + pin +
		`,"message":"pushing","extra":{"auth":{"token":"` + value + `"}},"list":["` + value + `",` + pin + `]}`
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, "logs."+runID, []byte(line)); err != nil {
		t.Fatalf("a driver's publish of a log line: %v", err)
	}

	stored := storedLogLines(t, s, runID)
	if len(stored) != 1 || strings.Contains(stored[0], value) || strings.Contains(stored[0], pin) || strings.Count(stored[0], "***") != 4 {
		t.Errorf("stored %q, want one line with its 4 secrets masked", stored)
	}
	deadline := time.Now().Add(10 * time.Second)
	for status, _ := s.call("GET", "/runs/"+runID, nil); status != http.StatusOK && time.Now().Before(deadline); status, _ = s.call("GET", "/runs/"+runID, nil) {
		time.Sleep(50 * time.Millisecond) // the engine records the run after POST /resources answers
	}
	for _, path := range []string{"/runs/" + runID + "/logs", "/logs?runid=" + runID} {
		status, answer := s.callRaw("GET", path, nil)
		if status != http.StatusOK || strings.Contains(string(answer), value) || strings.Contains(string(answer), pin) ||
			!strings.Contains(string(answer), `"timestamp":"***"`) {
			t.Errorf("GET %s: %d %s", path, status, answer)
		}
	}
}
