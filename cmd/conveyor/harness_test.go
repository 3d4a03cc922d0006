package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/etcdserver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// testServer is a Conveyor server running in this process, on free
// loopback ports, with embedded NATS and etcd in a temporary directory.
type testServer struct {
	t    testing.TB
	at   endpoints
	cfg  serverConfig
	stop func() error
	js   jetstream.JetStream
	etcd *clientv3.Client
	proc *process // the server process, when it runs as one
	// token is the server's admin token ("" with authentication off).
	token string
}

// startServer runs serve() with a fresh data directory; change adjusts the
// configuration first.
func startServer(t testing.TB, change func(*serverConfig)) *testServer {
	t.Helper()
	cfg := serverConfig{Addr: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "127.0.0.1:0",
		EtcdPrefix: "/conveyor", Replicas: 1, MaxBody: 1 << 20, LogLevel: "error", Auth: true, NATSAuth: true}
	if change != nil {
		change(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan endpoints, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- serve(ctx, cfg, log, func(at endpoints) { ready <- at }) }()
	s := &testServer{t: t, cfg: cfg}
	select {
	case s.at = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server not ready after 30s")
	}
	stopped := false
	s.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("server stopped with: %v", err)
		}
	})
	s.token = adminToken(t, s.at.API, adminTokenPath(cfg))
	s.connect()
	return s
}

// connect opens the test's own view of the event log and the read model;
// NATS with the server's admin token, which NATS takes for an operator's.
func (s *testServer) connect() {
	var opts []nats.Option
	if s.token != "" {
		opts = append(opts, nats.Token(s.token))
	}
	nc, err := nats.Connect(s.at.NATS, opts...)
	if err != nil {
		s.t.Fatalf("connect nats: %v", err)
	}
	s.t.Cleanup(nc.Close)
	if s.js, err = jetstream.New(nc); err != nil {
		s.t.Fatal(err)
	}
	etcdCfg := clientv3.Config{Endpoints: s.at.Etcd, DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
	if embedded := len(s.at.Etcd) > 0 && strings.HasPrefix(s.at.Etcd[0], "https://"); embedded && s.cfg.DataDir != "" {
		// The embedded etcd takes only clients with its certificate.
		if etcdCfg.TLS, err = etcdserver.ClientTLS(filepath.Join(s.cfg.DataDir, "etcd")); err != nil {
			s.t.Fatalf("etcd client certificate: %v", err)
		}
	}
	s.etcd, err = clientv3.New(etcdCfg)
	if err != nil {
		s.t.Fatalf("connect etcd: %v", err)
	}
	s.t.Cleanup(func() { _ = s.etcd.Close() })
}

// call sends a request with a JSON (or raw string) body and returns the
// status and the decoded JSON answer.
func (s *testServer) call(method, path string, body any, headers ...string) (int, map[string]any) {
	s.t.Helper()
	status, raw := s.callRaw(method, path, body, headers...)
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			s.t.Fatalf("%s %s: answer is not a JSON object: %v\n%s", method, path, err, raw)
		}
	}
	return status, out
}

func (s *testServer) callRaw(method, path string, body any, headers ...string) (int, []byte) {
	s.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.at.API+path, r)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if s.proc != nil {
			s.t.Fatalf("%s %s: %v\nserver output:\n%s", method, path, err, s.proc.output())
		}
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// must sends a request and fails the test unless the status is want.
func (s *testServer) must(want int, method, path string, body any, headers ...string) map[string]any {
	s.t.Helper()
	status, out := s.call(method, path, body, headers...)
	if status != want {
		s.t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

// lastSeq is the sequence of the last event in the log.
func (s *testServer) lastSeq() uint64 {
	s.t.Helper()
	stream, err := s.js.Stream(context.Background(), "CONVEYOR_EVENTS")
	if err != nil {
		s.t.Fatalf("event stream: %v", err)
	}
	info, err := stream.Info(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return info.State.LastSeq
}

// dump is every key and value of the read model, sorted; not the keys that
// say which server holds a role (they change with every process).
func (s *testServer) dump() string {
	s.t.Helper()
	resp, err := s.etcd.Get(context.Background(), s.cfg.EtcdPrefix+"/", clientv3.WithPrefix())
	if err != nil {
		s.t.Fatalf("dump etcd: %v", err)
	}
	lines := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if strings.HasPrefix(string(kv.Key), s.cfg.EtcdPrefix+"/leaders/") {
			continue
		}
		lines = append(lines, string(kv.Key)+"="+string(kv.Value))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// snapshot is the state of the log and the read model, to prove that a
// rejected request wrote nothing.
type snapshot struct {
	seq  uint64
	dump string
}

func (s *testServer) snapshot() snapshot { return snapshot{seq: s.lastSeq(), dump: s.dump()} }

// unchanged fails the test if anything was appended or projected since before.
func (s *testServer) unchanged(before snapshot, what string) {
	s.t.Helper()
	after := s.snapshot()
	if after.seq != before.seq {
		s.t.Errorf("%s: the log grew from sequence %d to %d", what, before.seq, after.seq)
	}
	if after.dump != before.dump {
		s.t.Errorf("%s: the read model changed:\nbefore:\n%s\nafter:\n%s", what, before.dump, after.dump)
	}
}

// Fixtures of the walk-through.
var (
	buildDefinition = map[string]any{
		"name": "build", "version": "1.0.0",
		"schema": map[string]any{"type": "object", "required": []string{"repo", "ref"},
			"properties": map[string]any{"repo": map[string]any{"type": "string"}, "ref": map[string]any{"type": "string"}}},
	}
	ciPipeline = map[string]any{
		"name": "ci", "resource": "build",
		"steps": []map[string]any{{"id": "compile", "driver": "compiler"}, {"id": "upload", "driver": "uploader"}},
	}
)

func buildResource(name, ref string) map[string]any {
	return map[string]any{"name": name, "resource": "build", "pipeline": "ci",
		"spec": map[string]any{"repo": "https://example.com/app.git", "ref": ref}}
}

// settle waits until the engine has nothing more to do: the log and the
// read model stay the same for a while. Work for drivers that are not
// running stays dispatched, so this ends.
func (s *testServer) settle() snapshot {
	s.t.Helper()
	last := s.snapshot()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(150 * time.Millisecond)
		now := s.snapshot()
		if now == last {
			return now
		}
		last = now
	}
	s.t.Fatal("the server did not settle within 20s")
	return last
}
