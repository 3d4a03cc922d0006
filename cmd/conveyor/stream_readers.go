package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/adapters/follow"
	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
)

// streamReaders are what the API's log and event streams read through: one
// tail of the log and one of the `logs` stream, each a single consumer
// shared by every stream, on a NATS connection of their own. However many
// streams are open and however far behind their clients are, the server's
// own connection (appends, the engine, the read models) carries none of it.
type streamReaders struct {
	nc *nats.Conn
	// js reads the stored lines of GET /runs/{id}/logs and what the log
	// streams ask besides their lines, on the same connection.
	js     jetstream.JetStream
	events *follow.Tail
	logs   *follow.Tail
}

// openStreamReaders connects the stream readers to NATS; Run follows the
// streams and closes the connection when it returns.
func openStreamReaders(in *infra, store *eventstore.Store, log *slog.Logger) (*streamReaders, error) {
	var nc *nats.Conn
	var err error
	if in.embNATS != nil {
		nc, err = in.embNATS.Connect(nats.Name("conveyor-streams"), nats.MaxReconnects(-1))
	} else {
		nc, err = nats.Connect(in.natsURL, nats.Name("conveyor-streams"), nats.MaxReconnects(-1))
	}
	if err != nil {
		return nil, fmt.Errorf("connect the stream readers to nats: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	log = log.With("component", "streams")
	return &streamReaders{nc: nc, js: js,
		events: follow.NewTail(js, store.StreamName(), follow.TailConfig{Logger: log}),
		logs:   follow.NewTail(js, protocol.LogsStream, follow.TailConfig{Logger: log}),
	}, nil
}

// Run follows both streams until ctx ends, then closes the connection.
func (sr *streamReaders) Run(ctx context.Context) error {
	defer sr.nc.Close()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return sr.events.Run(gctx) })
	g.Go(func() error { return sr.logs.Run(gctx) })
	return g.Wait()
}
