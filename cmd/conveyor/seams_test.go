package main

import (
	"context"
	"encoding/json"
	"github.com/conveyor/conveyor/adapters/embedtest"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/domain"
	"github.com/google/uuid"
)

// send makes one request and returns the status, the answer's headers and
// its body.
func send(t *testing.T, method, url string, body any, headers ...string) (int, http.Header, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = strings.NewReader(string(data))
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header, out
}

// A write needs the log only: while the read models' store (etcd) is away,
// a create is answered 201 with its log position, a read of the read
// models is answered 503 with Retry-After, and once etcd is back the
// created resource is visible to a read that names the position.
func TestWriteIsAnsweredWhileTheReadModelStoreIsAway(t *testing.T) {
	etcdBin := lookBin("etcd")
	if etcdBin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("etcd must be installed in CI (.ci/run installs it)")
		}
		t.Skip("needs an etcd binary")
	}
	dir := t.TempDir()
	etcdAddr, peerAddr := freePort(t), freePort(t)
	etcd := &externalProcess{args: []string{etcdBin, "--name", "t", "--data-dir", dir + "/etcd",
		"--listen-client-urls", "http://" + etcdAddr, "--advertise-client-urls", "http://" + etcdAddr,
		"--listen-peer-urls", "http://" + peerAddr, "--initial-advertise-peer-urls", "http://" + peerAddr,
		"--initial-cluster", "t=http://" + peerAddr}}
	etcd.start(t)
	waitForHTTP(t, "http://"+etcdAddr+"/health")
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", dir+"/conveyor",
		"--etcd-endpoints", "http://"+etcdAddr)
	api := server.at.API
	if status, _, body := send(t, "POST", api+"/resource-definitions", buildDefinition); status != http.StatusCreated {
		t.Fatalf("definition: %d %v", status, body)
	}

	etcd.stop()
	time.Sleep(1500 * time.Millisecond) // the server's health watch notices
	r := buildResource("while-away", "x")
	delete(r, "pipeline")
	status, headers, body := send(t, "POST", api+"/resources", r)
	if status != http.StatusCreated {
		t.Fatalf("create while etcd is away: %d %v, want 201 (the log took it)", status, body)
	}
	position := headers.Get("Conveyor-Position")
	if n, err := strconv.ParseUint(position, 10, 64); err != nil || n == 0 {
		t.Fatalf("the create's answer names position %q, want a log position", position)
	}
	status, headers, _ = send(t, "GET", api+"/resources/build/while-away", nil)
	if status != http.StatusServiceUnavailable || headers.Get("Retry-After") == "" {
		t.Errorf("read while etcd is away: %d, Retry-After %q; want 503 with Retry-After", status, headers.Get("Retry-After"))
	}

	etcd.start(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _, body = send(t, "GET", api+"/resources/build/while-away", nil, "Conveyor-Position", position)
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the resource written while etcd was away is not visible 30s after it came back: %d %v\n%s", status, body, server.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if spec, _ := body["spec"].(map[string]any); spec["ref"] != "x" {
		t.Errorf("the resource reads %v", body)
	}
}

func waitForHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// An event whose projection is larger than etcd takes is parked: it is in
// the log, the events after it are applied, /ready reports the server
// degraded, GET /admin/parked lists it, and the resource can still be
// deleted. The API refuses such a spec today (domain.MaxSpecBytes), so the
// event is one an older server wrote: appended to the log directly, and the
// server restarted to take the log as it finds it.
func TestAnEventTheReadModelsCannotHoldIsParked(t *testing.T) {
	dir := t.TempDir()
	sameDir := func(c *serverConfig) { c.DataDir = dir }
	s := startServer(t, sameDir)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "blob", "schema": map[string]any{"type": "object"}})
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	// The server is stopped: its log is opened alone, so that nothing else
	// changes the stream while the store sets it up (the NATS server races
	// a stream update with a consumer being created).
	alone := embedtest.NATS(t, filepath.Join(dir, "nats"))
	_, js := embedtest.JetStream(t, alone)
	store, err := eventstore.New(context.Background(), js, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(map[string]any{"data": strings.Repeat("x", 1600<<10)})
	huge := &domain.ResourceCreated{
		Meta: domain.Meta{ID: uuid.NewString(), Type: domain.TypeResourceCreated, Aggregate: domain.AggregateResource,
			AggregateID: "blob/huge", Version: 1, Time: time.Now().UTC()},
		Resource: domain.Resource{ID: uuid.NewString(), Name: "huge", Type: "blob", Metadata: map[string]string{"version": "1"}, Spec: spec},
	}
	seq, err := store.Append(context.Background(), []domain.Event{huge}, 0)
	if err != nil {
		t.Fatalf("append a 1.6 MB spec: %v", err)
	}
	hugeAt := strconv.FormatUint(seq, 10)
	js.Conn().Close()
	alone.Close()
	s = startServer(t, sameDir)
	s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": "after", "resource": "blob", "spec": map[string]any{}})
	s.must(http.StatusOK, "GET", "/resources/blob/after", nil)

	page := s.must(http.StatusOK, "GET", "/admin/parked", nil)
	items, _ := page["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("parked: %v, want the huge resource's event", page)
	}
	entry := items[0].(map[string]any)
	if strconv.FormatFloat(entry["sequence"].(float64), 'f', 0, 64) != hugeAt || entry["consumer"] != "projector" ||
		entry["aggregateId"] != "blob/huge" || !strings.Contains(entry["error"].(string), "too large") {
		t.Errorf("parked entry %v, want the event at %s refused for its size", entry, hugeAt)
	}
	ready := s.must(http.StatusOK, "GET", "/ready", nil)
	if ready["status"] != "degraded" {
		t.Errorf("/ready says %v, want degraded", ready)
	}
	s.must(http.StatusNotFound, "GET", "/resources/blob/huge", nil)
	s.must(http.StatusNoContent, "DELETE", "/resources/blob/huge", nil)
	s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": "huge", "resource": "blob", "spec": map[string]any{"small": true}})
	s.must(http.StatusOK, "GET", "/resources/blob/huge", nil)
}

// A read that names a log position the read models have not reached waits
// for it, bounded, then answers 503 with Retry-After and both positions; a
// position that is not a number is a 400.
func TestAReadWaitsForItsPositionThenAnswers503(t *testing.T) {
	s := startServer(t, func(c *serverConfig) { c.ReadWait = 300 * time.Millisecond })
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusOK, "GET", "/resource-definitions/build", nil)
	status, headers, body := send(t, "GET", s.at.API+"/resource-definitions/build", nil, "Conveyor-Position", "999999")
	detail, _ := body["detail"].(string)
	if status != http.StatusServiceUnavailable || headers.Get("Retry-After") == "" ||
		!strings.Contains(detail, "not reached log position 999999") {
		t.Errorf("a read ahead of the read models: %d, Retry-After %q, %v", status, headers.Get("Retry-After"), body)
	}
	status, _, body = send(t, "GET", s.at.API+"/resource-definitions/build", nil, "Conveyor-Position", "soon")
	if detail, _ := body["detail"].(string); status != http.StatusBadRequest || !strings.Contains(detail, "Conveyor-Position") {
		t.Errorf("a malformed position: %d %v", status, body)
	}
}
