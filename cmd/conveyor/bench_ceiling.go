package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/conveyor/conveyor/adapters/natsserver"
	"github.com/conveyor/conveyor/sdk"
	"github.com/nats-io/nats.go/jetstream"
)

// ceilings are this machine's own limits for what a create must do at the
// least: one guarded JetStream publish, and that publish behind a bare
// net/http handler. A create of the server cannot be faster than these; a
// replay cannot read the log faster than read, a bare read of a stream.
type ceilings struct {
	publish1, publish64 loadResult
	http1, http64       loadResult
	read                replayResult
}

// benchCeilings measures the ceilings with n operations at concurrency 1
// and 64 each, printing their rows as it goes. Its NATS server (embedded,
// file store in a temporary directory, as the server's own) is stopped
// before it returns.
func benchCeilings(ctx context.Context, n int, rows table) (ceilings, error) {
	var c ceilings
	dir, err := os.MkdirTemp("", "conveyor-ceiling-")
	if err != nil {
		return c, err
	}
	defer os.RemoveAll(dir)
	ns, err := natsserver.Start(ctx, natsserver.Config{Listen: "127.0.0.1:0", StoreDir: dir})
	if err != nil {
		return c, err
	}
	defer ns.Close()
	nc, err := ns.Connect()
	if err != nil {
		return c, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return c, err
	}
	// Like the event store's stream.
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "CEILING", Subjects: []string{"ceiling.>"}, Retention: jetstream.LimitsPolicy,
		Storage: jetstream.FileStorage, Discard: jetstream.DiscardOld, AllowDirect: true,
	}); err != nil {
		return c, fmt.Errorf("ceiling stream: %w", err)
	}

	for _, conc := range []int{1, 64} {
		r, err := ceilingPublish(ctx, js, n, conc)
		if err != nil {
			return c, fmt.Errorf("ceiling publish: %w", err)
		}
		rows.print(r.rows(fmt.Sprintf("ceiling: guarded publish, concurrency %d", conc), "publishes/s")...)
		if conc == 1 {
			c.publish1 = r
		} else {
			c.publish64 = r
		}
	}

	if c.read, err = ceilingRead(ctx, js, max(10*n, readCeilingMessages)); err != nil {
		return c, fmt.Errorf("ceiling read: %w", err)
	}
	rows.print(row{fmt.Sprintf("ceiling: bare read of %d messages", c.read.events), "messages/s",
		fmt.Sprintf("%.0f (%v)", c.read.perSecond(), c.read.took.Round(time.Millisecond))})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return c, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /resources", bareCreate(js))
	srv := &http.Server{Handler: mux}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(ln) }()
	defer func() { _ = srv.Shutdown(context.Background()); <-served }()
	client, err := sdk.NewClient(sdk.WithBaseURL("http://"+ln.Addr().String()), sdk.WithHTTPClient(benchHTTPClient()))
	if err != nil {
		return c, err
	}
	for _, conc := range []int{1, 64} {
		r, err := benchCreates(ctx, client, "ceiling", fmt.Sprintf("c%d-", conc), n, conc)
		if err != nil {
			return c, fmt.Errorf("ceiling http: %w", err)
		}
		rows.print(r.rows(fmt.Sprintf("ceiling: bare HTTP create, concurrency %d", conc), "requests/s")...)
		if conc == 1 {
			c.http1 = r
		} else {
			c.http64 = r
		}
	}
	return c, nil
}

// ceilingPublish appends n messages with conc publishers, each to a subject
// of its own, expecting that subject's last sequence as the event store does.
func ceilingPublish(ctx context.Context, js jetstream.JetStream, n, conc int) (loadResult, error) {
	last := make([]uint64, conc)
	payload := []byte(`{"name":"ceiling","resource":"ceiling","spec":{"n":1}}`)
	return runLoad(ctx, n, conc, func(ctx context.Context, w, _ int) error {
		ack, err := js.Publish(ctx, fmt.Sprintf("ceiling.publish.c%d.%d", conc, w), payload,
			jetstream.WithExpectLastSequencePerSubject(last[w]))
		if err != nil {
			return err
		}
		last[w] = ack.Sequence
		return nil
	})
}

// readCeilingMessages is the least number of messages the read ceiling
// reads: enough that the consumer's start does not count.
const readCeilingMessages = 50000

// ceilingRead appends n messages of an event's size to a stream of their
// own, then reads them all, in order, with one ordered consumer on the
// whole stream, decoding nothing: the fastest a replay could read the log
// from this NATS server.
func ceilingRead(ctx context.Context, js jetstream.JetStream, n int) (replayResult, error) {
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "CEILING_READ", Subjects: []string{"ceiling-read.>"}, Retention: jetstream.LimitsPolicy,
		Storage: jetstream.FileStorage, Discard: jetstream.DiscardOld, AllowDirect: true,
	})
	if err != nil {
		return replayResult{}, err
	}
	payload := []byte(`{"id":"` + strings.Repeat("x", 480) + `"}`)
	for i := range n {
		if _, err := js.PublishAsync(fmt.Sprintf("ceiling-read.%d", i%1000), payload); err != nil {
			return replayResult{}, err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return replayResult{}, ctx.Err()
	}
	start := time.Now()
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return replayResult{}, err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(replayBatchSize))
	if err != nil {
		return replayResult{}, err
	}
	defer it.Stop()
	for range n {
		if _, err := it.Next(); err != nil {
			return replayResult{}, err
		}
	}
	return replayResult{events: n, took: time.Since(start)}, nil
}

// replayBatchSize is how many messages the read ceiling asks for at once,
// as many as a page of GET /events holds.
const replayBatchSize = 1000

// bareCreate decodes a resource and appends it to a subject of its own name,
// guarded to be that subject's first message, then answers 201: the least a
// create can do.
func bareCreate(js jetstream.JetStream) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		var res sdk.Resource
		if err == nil {
			err = json.Unmarshal(body, &res)
		}
		if err != nil || res.Name == "" || strings.ContainsAny(res.Name, ".*> \t") {
			http.Error(w, "bad resource", http.StatusBadRequest)
			return
		}
		if _, err := js.Publish(r.Context(), "ceiling.http."+res.Name, body, jetstream.WithExpectLastSequencePerSubject(0)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(sdk.WriteResult{Name: res.Name, Version: 1})
	}
}
