package protocol

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// noSecrets masks nothing.
type noSecrets struct{}

func (noSecrets) Line(_ context.Context, _, _, line string) (string, error) { return line, nil }
func (noSecrets) Masks(context.Context, string) (bool, error)               { return false, nil }

// storeLogs runs MaskLogs with masker for the test: lines published on
// logs.{run_id} are stored only while it runs.
func storeLogs(t *testing.T, nc *nats.Conn, masker LineMasker) {
	t.Helper()
	masking, err := MaskLogs(nc, masker, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = masking.Drain() })
}

// logStreams starts NATS with the protocol's streams, for a test of the
// path of log lines.
func logStreams(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := EnsureStreams(ctx, js, StreamsConfig{Replicas: 1}); err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// secretWord masks "s3cret" and cannot load the secrets of run "broken".
type secretWord struct{}

func (secretWord) Line(_ context.Context, runID, _, line string) (string, error) {
	if runID == "broken" {
		return "", errors.New("vault unavailable")
	}
	return strings.ReplaceAll(line, "s3cret", "***"), nil
}

func (secretWord) Masks(_ context.Context, runID string) (bool, error) {
	if runID == "broken" {
		return false, errors.New("vault unavailable")
	}
	return true, nil
}

// A line is stored masked where it was published, with the stream's
// acknowledgement going to its publisher; a line whose secrets cannot be
// loaded is refused, not stored in clear; a body that is not JSON is
// masked as a whole.
func TestLogLinesAreStoredMaskedOrNotAtAll(t *testing.T) {
	nc, js := logStreams(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, "logs.r1", []byte(`{"message":"s3cret"}`)); !errors.Is(err, jetstream.ErrNoStreamResponse) && !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("a line published while nothing masks: %v, want it not stored", err)
	}
	storeLogs(t, nc, secretWord{})
	ack, err := js.Publish(ctx, "logs.r1", []byte(`{"runid":"r1","message":"pw s3cret","labels":{"k":"s3cret"},"attempt":1}`))
	if err != nil || ack.Stream != LogsStream {
		t.Fatalf("publish: %+v %v", ack, err)
	}
	if _, err := js.Publish(ctx, "logs.r1", []byte(`plain s3cret`)); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "logs.broken", []byte(`{"message":"s3cret"}`)); err == nil || !strings.Contains(err.Error(), "vault unavailable") {
		t.Errorf("a line whose secrets cannot be loaded: %v, want it refused", err)
	}
	stream, err := js.Stream(ctx, LogsStream)
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.GetMsg(ctx, ack.Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if first.Subject != "logs.r1" || string(first.Data) != `{"attempt":1,"labels":{"k":"***"},"message":"pw ***","runid":"r1"}` {
		t.Errorf("stored on %s: %s", first.Subject, first.Data)
	}
	second, err := stream.GetMsg(ctx, ack.Sequence+1)
	if err != nil || string(second.Data) != "plain ***" {
		t.Errorf("a body that is not JSON: %s (%v)", second.Data, err)
	}
	if info, err := stream.Info(ctx); err != nil || info.State.Msgs != 2 {
		t.Errorf("stream holds %d lines (%v), want 2", info.State.Msgs, err)
	}
}
