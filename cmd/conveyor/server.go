package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/conveyor/conveyor/adapters/etcdstore"
	"github.com/conveyor/conveyor/adapters/eventbus"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/adapters/schema"
	"github.com/conveyor/conveyor/api"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
	"github.com/conveyor/conveyor/projections"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
)

// Durable consumer names. Renaming one re-consumes the whole log: harmless
// (projections skip what they applied, the engine decides nothing twice and
// dispatches with the same message ids) but slow.
const (
	readModelConsumer = "projection-readmodel"
	engineConsumer    = "engine"
)

// engineWorkers is how many events the engine handles at once. Its
// decisions do not depend on the order it sees events in (each loads its run
// from the log and is guarded by optimistic concurrency), so runs progress
// side by side.
const engineWorkers = 16

func runServer(ctx context.Context, args []string) int {
	cfg, err := parseServerFlags(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "conveyor server: %v\n", err)
		return 2
	}
	level, _ := parseLevel(cfg.LogLevel)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := serve(ctx, cfg, log, nil); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
	return 0
}

// readyLinePattern matches the log line a server prints once it serves:
// the API URL, the NATS URL, the etcd endpoints and what it embeds.
var readyLinePattern = regexp.MustCompile(`msg="conveyor ready" api=(\S+) nats=(\S+) etcd=(\S+) embedded=(\S*)`)

// endpoints are where a running server can be reached.
type endpoints struct {
	API  string   // http://host:port
	NATS string   // nats://host:port, for drivers
	Etcd []string // etcd client URLs
}

// serve runs the server until ctx ends; onReady, if not nil, is called once
// it serves. Shutdown order: stop accepting requests and finish those in
// flight, stop the consumers, then close NATS, then etcd.
func serve(ctx context.Context, cfg serverConfig, log *slog.Logger, onReady func(endpoints)) error {
	started := time.Now()
	in, err := startInfra(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer in.Close()

	js, err := jetstream.New(in.nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	store, err := eventstore.New(ctx, js, eventstore.Config{Replicas: cfg.Replicas})
	if err != nil {
		return fmt.Errorf("event store: %w", err)
	}
	if err := protocol.EnsureStreams(ctx, js, protocol.StreamsConfig{Replicas: cfg.Replicas}); err != nil {
		return fmt.Errorf("driver streams: %w", err)
	}
	kv, err := etcdstore.Open(ctx, in.etcd, cfg.EtcdPrefix)
	if err != nil {
		return err
	}
	projector := projections.NewProjector(kv)
	readModel := projections.NewReadModel(kv)
	background := projections.NewAsync(projector, 8, log.With("component", "projection"))
	handler, err := commands.New(commands.Deps{
		Store: store, Projector: projector, Background: background, Schemas: schema.New(), Resources: readModel,
		Now: time.Now, NewID: func() string { return uuid.NewString() },
	})
	if err != nil {
		return err
	}
	apiServer, err := api.New(api.Config{MaxBody: cfg.MaxBody, Version: version, Logger: log}, api.Deps{
		Commands: handler, Queries: readModel, Logs: protocol.NewLogReader(js), Events: store,
		Maintenance: projections.Maintenance{Log: store, Generations: kv, Pause: handler.Pause},
		Checks:      map[string]api.Check{"nats": in.checkNATS, "etcd": in.checkEtcd},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	httpServer := &http.Server{Handler: apiServer.Handler(), ReadHeaderTimeout: 10 * time.Second}

	pm := engine.New(handler, protocol.NewDispatcher(js))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return eventbus.Run(gctx, in.newConn, eventbus.Config{Logger: log.With("component", "eventbus")},
			eventbus.Subscription{
				Name:   readModelConsumer,
				Handle: func(ctx context.Context, e domain.Event) error { return projector.Project(ctx, e) },
			},
			eventbus.Subscription{Name: engineConsumer, Aggregates: engine.Aggregates, Handle: pm.Handle, Workers: engineWorkers})
	})
	g.Go(func() error {
		return protocol.RunIntake(gctx, js, protocol.IntakeConfig{Logger: log.With("component", "intake")}, pm.RecordResult)
	})
	g.Go(func() error { return apiServer.Watch(gctx, 500*time.Millisecond) })
	if cfg.DebugAddr != "" {
		g.Go(func() error { return serveProfiles(gctx, cfg.DebugAddr, log) })
	}
	g.Go(func() error { return background.Run(gctx) })
	g.Go(func() error {
		if err := httpServer.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return httpServer.Shutdown(sctx)
	})
	at := endpoints{API: "http://" + ln.Addr().String(), NATS: in.natsURL, Etcd: in.etcdEndpoints}
	log.Info("conveyor ready", "api", at.API, "nats", at.NATS, "etcd", strings.Join(at.Etcd, ","),
		"embedded", strings.Join(in.embedded, ","), "startup", time.Since(started).Round(time.Millisecond))
	if onReady != nil {
		onReady(at)
	}
	err = g.Wait()
	log.Info("conveyor stopping")
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
