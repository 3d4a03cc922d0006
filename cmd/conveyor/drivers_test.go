package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// startDriver runs an example driver process with its credentials for the
// server at.
func startDriver(t *testing.T, name string, at endpoints) *exec.Cmd {
	t.Helper()
	return startDriverWith(t, name, driverNATS(t, at, name))
}

// startDriverWith runs an example driver process with natsURL as its
// CONVEYOR_NATS_URL.
func startDriverWith(t *testing.T, name, natsURL string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(built(t, "../../examples/compile-upload/"+name))
	cmd.Env = append(os.Environ(), "CONVEYOR_NATS_URL="+natsURL)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	})
	return cmd
}

// storedLogs reads every line stored under logs.{runID}.
func storedLogs(t *testing.T, js jetstream.JetStream, runID string) []map[string]any {
	t.Helper()
	return readStream(t, js, "logs", "logs."+runID)
}

// readStream reads every message stored on subject in stream, as JSON.
func readStream(t *testing.T, js jetstream.JetStream, streamName, subject string) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, streamName)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for {
		batch, err := cons.FetchNoWait(100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			// One command's events are one message: an envelope
			// {"events": [...]} when there are several.
			var m map[string]any
			if err := json.Unmarshal(msg.Data(), &m); err != nil {
				t.Fatalf("%s holds a message that is not JSON: %s", subject, msg.Data())
			}
			events, isEnvelope := m["events"].([]any)
			if !isEnvelope {
				out = append(out, m)
			}
			for _, e := range events {
				out = append(out, e.(map[string]any))
			}
		}
		if n == 0 {
			return out
		}
	}
}

// TestPipelineWithSDKDrivers runs the binary and the two example drivers
// (built on the sdk) as separate processes: the run succeeds in order, the
// results are in the resource's metadata, and the logs are stored under the
// Run ID.
func TestPipelineWithSDKDrivers(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	s := server.client(t, "/conveyor")
	startDriver(t, "compiler", server.at)
	startDriver(t, "uploader", server.at)

	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "abc123"))["runid"].(string)

	run := s.waitRun(runID)
	if run["status"] != "succeeded" {
		t.Fatalf("run ended %v: %v", run["status"], run)
	}
	steps := run["steps"].([]any)
	first, second := steps[0].(map[string]any), steps[1].(map[string]any)
	if first["finishedAt"].(string) > second["dispatchedAt"].(string) {
		t.Errorf("upload was dispatched (%v) before compile finished (%v)", second["dispatchedAt"], first["finishedAt"])
	}
	meta := s.must(http.StatusOK, "GET", "/resources/build/app-1", nil)["metadata"].(map[string]any)
	var uploaded struct {
		Success bool              `json:"success"`
		Data    map[string]string `json:"data"`
	}
	if err := json.Unmarshal([]byte(meta["driverresults.uploader"].(string)), &uploaded); err != nil ||
		!uploaded.Success || uploaded.Data["url"] != "https://artifacts.example.com/app-1-abc123.tar.gz" {
		t.Errorf("uploader result in metadata: %v (%v)", meta["driverresults.uploader"], err)
	}

	lines := storedLogs(t, s.js, runID)
	var text []string
	for _, l := range lines {
		if l["runid"] != runID || l["timestamp"] == "" {
			t.Errorf("log line %v", l)
		}
		text = append(text, l["driver"].(string)+": "+l["message"].(string))
	}
	joined := strings.Join(text, "\n")
	for _, want := range []string{"compiler: compiling https://example.com/app.git at abc123", "compiler: built app-1-abc123.tar.gz",
		"uploader: uploading app-1-abc123.tar.gz"} {
		if !strings.Contains(joined, want) {
			t.Errorf("logs lack %q:\n%s", want, joined)
		}
	}
	if strings.Index(joined, "compiler: built") > strings.Index(joined, "uploader: uploading") {
		t.Errorf("logs out of order:\n%s", joined)
	}

	served := s.must(http.StatusOK, "GET", "/runs/"+runID+"/logs", nil)["items"].([]any)
	if len(served) != len(lines) {
		t.Errorf("GET /runs/{id}/logs: %d lines, the stream holds %d", len(served), len(lines))
	}
	onlyUploader := s.must(http.StatusOK, "GET", "/runs/"+runID+"/logs?driver=uploader", nil)["items"].([]any)
	if len(onlyUploader) == 0 || len(onlyUploader) >= len(served) {
		t.Errorf("driver filter: %d of %d lines", len(onlyUploader), len(served))
	}
	for _, l := range onlyUploader {
		if l.(map[string]any)["driver"] != "uploader" {
			t.Errorf("filtered line %v", l)
		}
	}
}
