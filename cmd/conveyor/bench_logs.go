package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/conveyor/conveyor/sdk"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// logLinePad is how long the message of each line of the log scenario is.
const logLinePad = 1024

// benchLogs is `conveyor bench --log-lines N`: N lines of 1 KiB published
// as a driver does (JetStream, without waiting for each acknowledgement,
// on logs.{run_id}) into a run granted no secret, then N into a run whose
// step is granted one, so that the server masks them. It reports the
// lines stored per second and, for a server of its own, the server's CPU
// per line. The runs wait for a driver that never comes and are cancelled
// at the end.
func benchLogs(ctx context.Context, c benchConfig, out io.Writer) error {
	rows := newTable(out)
	srv, err := c.target(ctx)
	if err != nil {
		return err
	}
	var serverPID int
	if srv != nil {
		defer srv.stop()
		serverPID = srv.cmd.Process.Pid
	}
	client, err := sdk.NewClient(sdk.WithBaseURL(c.API), sdk.WithHTTPClient(benchHTTPClient()), sdk.WithToken(c.Token))
	if err != nil {
		return err
	}
	nc, err := nats.Connect(c.NATS)
	if err != nil {
		return fmt.Errorf("log scenario: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	typ := "bench-logs-" + suffix
	if _, err := client.CreateDefinition(ctx, benchDefinition(typ)); err != nil {
		return err
	}
	// The run without a secret logs first, while the server may hold none.
	for _, granted := range []bool{false, true} {
		name, secrets := typ+"-plain", []string(nil)
		if granted {
			name, secrets = typ+"-granted", []string{typ}
			if err := client.SetSecret(ctx, typ, []byte("bench-registry-password-"+suffix)); err != nil {
				return err
			}
		}
		if _, err := client.CreatePipeline(ctx, sdk.Pipeline{Name: name, Resource: typ,
			Steps: []sdk.Step{{ID: "log", Driver: "bench-nobody-" + suffix, Secrets: secrets}}}); err != nil {
			return err
		}
		created, err := client.CreateResource(ctx, sdk.Resource{Name: name, Type: typ, Pipeline: name, Spec: []byte(`{}`)})
		if err != nil {
			return err
		}
		r, err := publishLogLines(ctx, js, serverPID, created.RunID, c.LogLines)
		_, _ = client.CancelRun(ctx, created.RunID)
		if err != nil {
			return err
		}
		scenario := fmt.Sprintf("logs: %d lines, run without secrets", c.LogLines)
		if granted {
			scenario = fmt.Sprintf("logs: %d lines, run granted a secret", c.LogLines)
		}
		rows.print(r.rows(scenario)...)
	}
	return nil
}

// logLoad is what one run's lines measured.
type logLoad struct {
	stored  int
	elapsed time.Duration
	cpu     time.Duration // of the server
	cpuRead bool          // cpu was read (a few lines can take less than the clock's tick)
}

func (r logLoad) rows(scenario string) []row {
	out := []row{{scenario, "lines/s stored", fmt.Sprintf("%.0f", float64(r.stored)/r.elapsed.Seconds())}}
	switch {
	case r.cpuRead && r.cpu == 0:
		out = append(out, row{scenario, "server CPU per line", "below what /proc tells (its clock ticks every 10 ms): send more lines"})
	case r.cpuRead && r.stored > 0:
		out = append(out, row{scenario, "server CPU per line", (r.cpu / time.Duration(r.stored)).Round(100 * time.Nanosecond).String()})
	}
	return out
}

// publishLogLines publishes n lines of run as the sdk's logger does and
// waits for every acknowledgement; a line refused or not acknowledged is
// an error, since every line must be stored.
func publishLogLines(ctx context.Context, js jetstream.JetStream, serverPID int, runID string, n int) (logLoad, error) {
	var cpu0 time.Duration
	if serverPID != 0 {
		cpu0, _ = cpuTime(serverPID)
	}
	pad := strings.Repeat("x", logLinePad)
	acks := make([]jetstream.PubAckFuture, 0, n)
	start := time.Now()
	for i := range n {
		now := time.Now()
		body, _ := json.Marshal(map[string]any{"runid": runID, "driver": "bench", "pipeline": "bench",
			"timestamp": strconv.FormatInt(now.Unix(), 10), "message": fmt.Sprintf("%d %s", i, pad), "labels": map[string]string{},
			"time": now.UTC().Format(time.RFC3339Nano), "step": "log", "attempt": 1})
		ack, err := js.PublishAsync("logs."+runID, body)
		if err != nil {
			return logLoad{}, fmt.Errorf("line %d: %w", i, err)
		}
		acks = append(acks, ack)
	}
	for i, ack := range acks {
		select {
		case <-ack.Ok():
		case err := <-ack.Err():
			return logLoad{}, fmt.Errorf("line %d not stored: %w", i, err)
		case <-ctx.Done():
			return logLoad{}, ctx.Err()
		}
	}
	r := logLoad{stored: n, elapsed: time.Since(start)}
	if serverPID != 0 {
		if cpu1, err := cpuTime(serverPID); err == nil {
			r.cpu, r.cpuRead = cpu1-cpu0, true
		}
	}
	return r, nil
}
