package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conveyor/conveyor/sdk"
	wire "github.com/conveyor/conveyor/sdk/protocol"
	"github.com/nats-io/nats.go"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// protocolSchemas compiles the schemas of sdk/protocol, formats asserted,
// by kind.
func protocolSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	files, err := fs.Glob(wire.Schemas, "*.schema.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas: %v", err)
	}
	for _, f := range files {
		raw, err := wire.Schemas.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if id, _ := doc.(map[string]any)["$id"].(string); id != wire.SchemaBase+f {
			t.Errorf("%s: $id %q, want %q", f, id, wire.SchemaBase+f)
		}
		if err := c.AddResource(wire.SchemaBase+f, doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, kind := range append(slices.Clone(wire.Kinds), wire.KindResource) {
		sch, err := c.Compile(wire.SchemaBase + kind + ".schema.json")
		if err != nil {
			t.Fatalf("schema %s: %v", kind, err)
		}
		out[kind] = sch
	}
	return out
}

// validateMessage validates data, a message of kind, against its schema;
// for a work message, its payload against the resource's too (a string's
// contentSchema is an annotation only).
func validateMessage(schemas map[string]*jsonschema.Schema, kind string, data []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	if err := schemas[kind].Validate(v); err != nil {
		return err
	}
	if payload, ok := v.(map[string]any)["payload"].(string); ok && kind == wire.KindWork {
		return validateMessage(schemas, wire.KindResource, []byte(payload))
	}
	return nil
}

// TestProtocolSchemasRefuseBrokenMessages: each schema takes a message as the
// runtimes write it, with a field it does not know, and refuses one with a
// field of the wrong type or a required field missing, so that none of
// them is vacuous.
func TestProtocolSchemasRefuseBrokenMessages(t *testing.T) {
	schemas := protocolSchemas(t)
	const runID = "0b7e4c1e-6f0a-4c55-9d1e-2f3a4b5c6d7e"
	resource := `{"id":"r1","name":"app-1","resource":"build","pipeline":"ci","metadata":{"version":"1"},"spec":{"ref":"abc"}}`
	payload, _ := json.Marshal(resource)
	valid := map[string]string{
		wire.KindWork:            `{"event":"process","payload":` + string(payload) + `,"id":"` + runID + `.compile.1","run_id":"` + runID + `","step":"compile","attempt":1,"secrets":["registry"],"with":{"n":3},"extra":1}`,
		wire.KindConsumerRequest: `{"resources":["build"],"ackWaitMs":30000,"maxAckPending":1000,"extra":1}`,
		wire.KindConsumerReply:   `{"ok":true}`,
		wire.KindHeartbeat:       `{"run_id":"` + runID + `","step":"compile","attempt":1,"driver":"compiler"}`,
		wire.KindStop:            `{"run_id":"` + runID + `","step":"compile","attempt":1,"reason":"the run was cancelled"}`,
		wire.KindResult:          `{"event":"driver.result","run_id":"` + runID + `","resource":` + resource + `,"driverresult":{"success":true,"message":"ok","data":null,"driver":"compiler"}}`,
		wire.KindLogLine:         `{"runid":"` + runID + `","driver":"compiler","pipeline":"ci","timestamp":"1700000000","message":"hi","labels":{"event":"create"}}`,
		wire.KindSecretsRequest:  `{"run_id":"` + runID + `","step":"compile","attempt":1}`,
		wire.KindSecretsReply:    `{}`,
		wire.KindPresence:        `{"driver":"compiler","instance":"abc","resources":["build"],"since":"2026-12-07T10:00:00Z"}`,
	}
	for _, kind := range wire.Kinds {
		if err := validateMessage(schemas, kind, []byte(valid[kind])); err != nil {
			t.Errorf("%s: a valid message is refused: %v", kind, err)
		}
	}
	instance := `{"run_id":"` + runID + `","step":"compile[go=1.22,os=linux%2Famd64]","attempt":1}`
	if err := validateMessage(schemas, wire.KindHeartbeat, []byte(instance)); err != nil {
		t.Errorf("a heartbeat of a matrix step's instance is refused: %v", err)
	}
	invalid := []struct{ kind, why, msg string }{
		{wire.KindWork, "no run_id", `{"event":"process","payload":"{}","id":"x"}`},
		{wire.KindWork, "payload an object", `{"event":"process","payload":` + resource + `,"id":"x","run_id":"` + runID + `"}`},
		{wire.KindWork, "payload not a resource", `{"event":"process","payload":"{\"name\":\"a\"}","id":"x","run_id":"` + runID + `"}`},
		{wire.KindWork, "unknown event", `{"event":"created","payload":` + string(payload) + `,"id":"x","run_id":"` + runID + `"}`},
		{wire.KindWork, "with a list", `{"event":"process","payload":` + string(payload) + `,"id":"x","run_id":"` + runID + `","with":[1]}`},
		{wire.KindWork, "attempt a string", `{"event":"process","payload":` + string(payload) + `,"id":"x","run_id":"` + runID + `","attempt":"1"}`},
		{wire.KindConsumerRequest, "no resources", `{"ackWaitMs":30000}`},
		{wire.KindConsumerRequest, "ack wait too short", `{"resources":["build"],"ackWaitMs":10}`},
		{wire.KindConsumerRequest, "a resource type that is no name", `{"resources":["Build.X"]}`},
		{wire.KindConsumerReply, "refused without its error", `{"ok":false}`},
		{wire.KindConsumerReply, "ok a string", `{"ok":"true"}`},
		{wire.KindHeartbeat, "no step", `{"run_id":"` + runID + `","attempt":1}`},
		{wire.KindHeartbeat, "a step id that is none", `{"run_id":"` + runID + `","step":"compile[os linux]","attempt":1}`},
		{wire.KindHeartbeat, "done a string", `{"run_id":"` + runID + `","step":"compile","attempt":1,"done":"yes"}`},
		{wire.KindStop, "no reason", `{"run_id":"` + runID + `","step":"compile","attempt":1}`},
		{wire.KindResult, "no driverresult", `{"event":"driver.result","run_id":"` + runID + `"}`},
		{wire.KindResult, "run_id not a run id", `{"event":"driver.result","run_id":"42","driverresult":{"success":true,"driver":"compiler"}}`},
		{wire.KindResult, "success a string", `{"event":"driver.result","run_id":"` + runID + `","driverresult":{"success":"true","driver":"compiler"}}`},
		{wire.KindResult, "data a string", `{"event":"driver.result","run_id":"` + runID + `","driverresult":{"success":true,"driver":"compiler","data":"x"}}`},
		{wire.KindResult, "metadata not strings", `{"event":"driver.result","run_id":"` + runID + `","resource":{"name":"a","resource":"build","metadata":{"version":2}},"driverresult":{"success":true,"driver":"compiler"}}`},
		{wire.KindLogLine, "no message", `{"runid":"` + runID + `","driver":"compiler","pipeline":"ci","timestamp":"1700000000"}`},
		{wire.KindLogLine, "labels not strings", `{"runid":"` + runID + `","driver":"compiler","pipeline":"ci","timestamp":"1700000000","message":"hi","labels":{"n":1}}`},
		{wire.KindLogLine, "time not RFC 3339", `{"runid":"` + runID + `","driver":"compiler","pipeline":"ci","timestamp":"1700000000","message":"hi","time":"yesterday"}`},
		{wire.KindSecretsRequest, "no attempt", `{"run_id":"` + runID + `","step":"compile"}`},
		{wire.KindSecretsReply, "a value not a string", `{"secrets":{"registry":1}}`},
		{wire.KindPresence, "no instance", `{"driver":"compiler","resources":["build"],"since":"2026-12-07T10:00:00Z"}`},
		{wire.KindPresence, "since not a time", `{"driver":"compiler","instance":"abc","resources":["build"],"since":"now"}`},
	}
	refused := map[string]bool{}
	for _, tc := range invalid {
		if err := validateMessage(schemas, tc.kind, []byte(tc.msg)); err == nil {
			t.Errorf("%s with %s: accepted", tc.kind, tc.why)
		}
		refused[tc.kind] = true
	}
	for _, kind := range wire.Kinds {
		if !refused[kind] {
			t.Errorf("%s: no broken message tried", kind)
		}
	}
}

// seenMessages collects what NATS carries of the protocol, by kind.
type seenMessages struct {
	schemas map[string]*jsonschema.Schema

	mu      sync.Mutex
	replies map[string]string // reply subject of a request → kind of its reply
	count   map[string]int
	bad     []string
	steps   map[string]bool // the steps work was dispatched for
	// labelled says that work was seen on a subject of labels.
	labelled bool
}

// kindOf is the kind of a message on subject, "" when it is not one of
// the protocol's. The request's reply is noted, to know its reply.
func (s *seenMessages) kindOf(m *nats.Msg) string {
	parts := strings.Split(m.Subject, ".")
	switch {
	case len(parts) == 4 && parts[0] == "drivers" && parts[2] == "resources", len(parts) == 2 && parts[0] == "resources",
		len(parts) == 6 && parts[0] == "drivers" && parts[2] == "on" && parts[4] == "resources":
		return wire.KindWork
	case len(parts) == 4 && parts[0] == "conveyor" && parts[1] == "drivers" && parts[3] == "consumer":
		s.replies[m.Reply] = wire.KindConsumerReply
		return wire.KindConsumerRequest
	case len(parts) == 4 && parts[0] == "conveyor" && parts[1] == "drivers" && parts[3] == "stop":
		return wire.KindStop
	case len(parts) == 3 && parts[0] == "conveyor" && parts[1] == "heartbeats":
		return wire.KindHeartbeat
	case len(parts) == 3 && parts[0] == "conveyor" && parts[1] == "presence":
		return wire.KindPresence
	case len(parts) == 3 && parts[0] == "conveyor" && parts[1] == "secrets":
		s.replies[m.Reply] = wire.KindSecretsReply
		return wire.KindSecretsRequest
	case strings.HasPrefix(m.Subject, "pipelines.driver.result"):
		return wire.KindResult
	case len(parts) == 2 && parts[0] == "logs", strings.HasPrefix(m.Subject, "conveyor.logs.masked."):
		return wire.KindLogLine
	}
	kind := s.replies[m.Subject]
	delete(s.replies, m.Subject)
	return kind
}

func (s *seenMessages) take(m *nats.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kind := s.kindOf(m)
	if kind == "" {
		return
	}
	s.count[kind]++
	var work struct{ Step string }
	if kind == wire.KindWork && json.Unmarshal(m.Data, &work) == nil {
		s.steps[work.Step] = true
		s.labelled = s.labelled || strings.Contains(m.Subject, ".on.")
	}
	if err := validateMessage(s.schemas, kind, m.Data); err != nil {
		s.bad = append(s.bad, kind+" on "+m.Subject+": "+string(m.Data)+"\n"+err.Error())
	}
}

// TestProtocolMessagesMatchTheirSchemas runs a server with two drivers of
// the SDK, listening to everything on NATS as an operator: a two-step run
// whose first step gets a secret and parameters and logs and whose second
// is a matrix of two instances (step ids upload[os=…]) that run on a label
// of the uploader's process (so on a subject of labels), a change fanned
// out to both drivers, and a run cancelled mid-step. Every message of the
// protocol seen is valid against its schema of sdk/protocol, and every
// kind is seen.
func TestProtocolMessagesMatchTheirSchemas(t *testing.T) {
	s := startServer(t, nil)
	seen := &seenMessages{schemas: protocolSchemas(t), replies: map[string]string{}, count: map[string]int{}, steps: map[string]bool{}}
	nc := s.js.Conn()
	sub, err := nc.Subscribe(">", seen.take)
	if err != nil {
		t.Fatal(err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	s.must(http.StatusOK, "PUT", "/secrets/registry", map[string]any{"value": "hunter2-registry"})
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "ci", "resource": "build", "steps": []map[string]any{
		{"id": "compile", "driver": "compiler", "secrets": []string{"registry"}, "with": map[string]any{"image": "${{ resource.name }}", "n": 3}},
		{"id": "upload", "driver": "uploader", "runsOn": []string{"linux"}, "matrix": map[string]any{"os": []any{"linux", "mac os"}}}}})
	stopCompiler := runDriver(t, s, "compiler", func(ctx context.Context, req sdk.Request) sdk.Result {
		req.Log.Printf("compiling %s with %s", req.Resource.Name, req.With)
		if req.Resource.Name == "doomed" {
			<-ctx.Done()
			return sdk.Result{Success: false, Message: "stopped"}
		}
		return sdk.Result{Success: true, Message: "compiled", Data: map[string]any{"image": "app:1"}}
	})
	stopUploader := runDriver(t, s, "uploader", func(ctx context.Context, req sdk.Request) sdk.Result {
		req.Log.Printf("uploading %s", req.Resource.Name)
		return sdk.Result{Success: true}
	}, sdk.WithLabels("linux", "arm64"))
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc"))["runid"].(string)
	if run := s.waitRun(runID); run["status"] != "succeeded" {
		t.Fatalf("run %v: %v", run["status"], run["steps"])
	}
	// A change of a resource without a pipeline goes to every driver of its type.
	loose := buildResource("loose", "abc")
	delete(loose, "pipeline")
	s.must(http.StatusCreated, "POST", "/resources", loose)
	doomed := s.must(http.StatusCreated, "POST", "/resources", buildResource("doomed", "abc"))["runid"].(string)
	waitLog(t, s, doomed, "compiling doomed")
	s.must(http.StatusOK, "POST", "/runs/"+doomed+"/cancel", nil)
	waitLog(t, s, doomed, "stopped: the run was cancelled")
	stopCompiler()
	stopUploader() // each says it is leaving
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	seen.mu.Lock()
	defer seen.mu.Unlock()
	for _, bad := range seen.bad {
		t.Errorf("not valid against its schema: %s", bad)
	}
	for _, kind := range wire.Kinds {
		if seen.count[kind] == 0 {
			t.Errorf("no %s message seen", kind)
		}
	}
	if !seen.labelled {
		t.Error("no work on a subject of labels")
	}
	if !seen.steps["upload[os=mac%20os]"] {
		t.Errorf("no work for the matrix instance upload[os=mac%%20os]; work for %v", seen.steps)
	}
	t.Logf("validated %v", seen.count)
}
