package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/sdk"
	"github.com/nats-io/nats.go"
)

// TestSecretsReachOnlyTheirStep: a secret set through the API is never
// answered back; the step granted it gets its value, the step beside it
// does not; a line logging the value is stored masked; no event, and
// nothing in NATS outside the driver's answer, holds the value.
func TestSecretsReachOnlyTheirStep(t *testing.T) {
	const value = "hunter2-registry-password"
	s := startServer(t, nil)
	s.must(http.StatusOK, "PUT", "/secrets/registry", map[string]any{"value": value})
	_, raw := s.callRaw("GET", "/secrets", nil)
	if !strings.Contains(string(raw), `"name":"registry"`) || strings.Contains(string(raw), value) {
		t.Errorf("GET /secrets: %s", raw)
	}
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build", "steps": []map[string]any{
		{"id": "push", "driver": "pusher", "secrets": []string{"registry"}},
		{"id": "test", "driver": "tester", "needs": []string{}},
	}})
	got := make(chan map[string]string, 2)
	runDriver(t, s, "pusher", func(ctx context.Context, req sdk.Request) sdk.Result {
		req.Log.Printf("logging in with %s to the registry", req.Secrets["registry"])
		got <- req.Secrets
		return sdk.Result{Success: true}
	})
	runDriver(t, s, "tester", func(ctx context.Context, req sdk.Request) sdk.Result {
		got <- req.Secrets
		return sdk.Result{Success: true}
	})
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	if run := s.waitRun(runID); run["status"] != "succeeded" {
		t.Fatalf("run %v: %v", run["status"], run["steps"])
	}
	granted, other := <-got, <-got
	if len(granted) == 0 {
		granted, other = other, granted
	}
	if granted["registry"] != value || len(other) != 0 {
		t.Errorf("the granted step got %v, the other %v", granted, other)
	}
	logs := joinedLogs(s, runID)
	if strings.Contains(logs, value) || !strings.Contains(logs, "logging in with *** to the registry") {
		t.Errorf("the stored log:\n%s", logs)
	}
	_, events := s.callRaw("GET", "/events?limit=1000", nil)
	if strings.Contains(string(events), value) || !strings.Contains(string(events), `"type":"SecretChanged.v1"`) {
		t.Errorf("the event log holds the value, or not the change")
	}
	kv, err := s.js.KeyValue(context.Background(), "CONVEYOR_SECRETS")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := kv.Get(context.Background(), "registry")
	if err != nil || strings.Contains(string(stored.Value()), value) {
		t.Errorf("the bucket holds the value in the clear (%v)", err)
	}
}

// TestDriverCannotTakeAnotherStepsSecrets: a driver that asks for the
// secrets of a step it does not run is refused.
func TestDriverCannotTakeAnotherStepsSecrets(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusOK, "PUT", "/secrets/registry", map[string]any{"value": "x-secret-value"})
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build", "steps": []map[string]any{
		{"id": "push", "driver": "pusher", "secrets": []string{"registry"}}}})
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	s.waitStep(runID, "push", "dispatched")
	nc, err := nats.Connect(driverNATS(t, s.at, "thief"), nats.CustomInboxPrefix("_INBOX.thief"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	body, _ := json.Marshal(map[string]any{"run_id": runID, "step": "push", "attempt": 1})
	msg, err := nc.Request("conveyor.secrets.thief", body, 5e9)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(msg.Data), "x-secret-value") || !strings.Contains(string(msg.Data), "is not dispatched to driver thief") {
		t.Errorf("another driver's ask: %s", msg.Data)
	}
	if _, err := nc.Request("conveyor.secrets.pusher", body, 2e9); err == nil {
		t.Error("a driver could ask in another driver's name")
	}
}

// TestCLISecretsAndBadInput: `conveyor secrets` sets from standard input and
// lists without values; a bad name or an empty value is refused and
// nothing is written.
func TestCLISecretsAndBadInput(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	s := server.client(t, "/conveyor")
	if code, out, errOut := cliRun(t, server, "p4ss-w0rd-value\n", "secrets", "set", "deploy-key"); code != 0 || out != "secret deploy-key set\n" {
		t.Fatalf("secrets set: exit %d %q %s", code, out, errOut)
	}
	code, out, _ := cliRun(t, server, "", "secrets", "list")
	if code != 0 || !strings.Contains(out, "deploy-key") || strings.Contains(out, "p4ss") {
		t.Errorf("secrets list: exit %d\n%s", code, out)
	}
	before := s.settle()
	for _, tc := range []struct {
		path string
		body any
		want string
	}{
		{"/secrets/Bad.Name", map[string]any{"value": "x"}, "must be 1 to 63 characters"},
		{"/secrets/empty", map[string]any{"value": ""}, "expected length >= 1"},
		{"/secrets/huge", map[string]any{"value": strings.Repeat("x", 70000)}, "expected length <= 65536"},
	} {
		status, body := s.callRaw("PUT", tc.path, tc.body)
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), tc.want) {
			t.Errorf("PUT %s: %d %s, want 422 with %q", tc.path, status, body, tc.want)
		}
	}
	s.unchanged(before, "refused secrets")
	if code, _, errOut := cliRun(t, server, "", "secrets", "set", "nothing"); code != exitUsage || !strings.Contains(errOut, "no value on standard input") {
		t.Errorf("secrets set with no value: exit %d %s", code, errOut)
	}
}
