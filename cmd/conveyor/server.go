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

	"github.com/conveyor/conveyor/adapters/conditions"
	"github.com/conveyor/conveyor/adapters/etcdstore"
	"github.com/conveyor/conveyor/adapters/eventbus"
	"github.com/conveyor/conveyor/adapters/eventjson"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/adapters/gitstatus"
	"github.com/conveyor/conveyor/adapters/natsserver"
	"github.com/conveyor/conveyor/adapters/parking"
	"github.com/conveyor/conveyor/adapters/protocol"
	"github.com/conveyor/conveyor/adapters/schedules"
	"github.com/conveyor/conveyor/adapters/schema"
	"github.com/conveyor/conveyor/adapters/secrets"
	"github.com/conveyor/conveyor/api"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
	"github.com/conveyor/conveyor/projections"
	"github.com/conveyor/conveyor/sdk"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
)

// engineConsumer names the engine's durable consumer of the log. Renaming it
// re-consumes the whole log: harmless (the engine decides from each run's
// state, and a run that ended publishes nothing) but slow.
const engineConsumer = "engine"

// reporterConsumer names the durable consumer of the run events that
// reports runs to git hosts; renaming it reports every run of the log again.
const reporterConsumer = "status-reporter"

// reporterAckWait covers a status's attempts (1+2+4+8 s of waits, each
// request up to 10 s) before another server takes the event over.
const reporterAckWait = 90 * time.Second

// retiredReadModelConsumer is the durable consumer that projected the read
// models before the projector read the log from its own checkpoint; a
// server removes it at start.
const retiredReadModelConsumer = "projection-readmodel"

// consumerAckWait is how long a message taken by a server that died waits
// before another server gets it: the engine's and the intake's handlers take
// milliseconds, so a short wait makes runs resume soon after a crash.
const consumerAckWait = 10 * time.Second

// engineWorkers is how many messages of the log the engine's consumer takes
// at once; each is decided on the engine worker that owns its run. Measured
// with `conveyor bench` (1000 two-step runs): 4 took 1.27-1.34 s, 8 took
// 1.44 s, 16 took 1.4-1.7 s and 32 took 2.05 s: every consumer worker pulls
// on its own, and more of them cost more than they overlap.
const engineWorkers = 4

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
	setServerGC(os.Getenv)
	if err := serve(ctx, cfg, log, nil); err != nil {
		if ctx.Err() != nil { // a signal came while it started
			log.Info("conveyor stopped by a signal before it was ready", "err", err)
			return 0
		}
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
	if cfg.NATSURL == "" || len(cfg.EtcdEndpoints) == 0 {
		unlock, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return err
		}
		defer unlock()
	}
	var gate *natsGate
	var authenticate natsserver.Authenticator
	if natsAuthOn(cfg) {
		gate = &natsGate{}
		authenticate = gate.authenticate
	}
	in, err := startInfra(ctx, cfg, authenticate, log)
	if err != nil {
		return err
	}
	defer in.Close()

	js, err := jetstream.New(in.nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	store, err := eventstore.New(ctx, js, eventstore.Config{Replicas: cfg.Replicas, SoleWriter: cfg.NATSURL == ""})
	if err != nil {
		return fmt.Errorf("event store: %w", err)
	}
	// The read models were once projected by a durable consumer of this
	// name; the projector now reads the log itself from its checkpoint.
	if err := js.DeleteConsumer(ctx, store.StreamName(), retiredReadModelConsumer); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		log.Warn("could not remove the retired read-model consumer", "err", err)
	}
	if err := protocol.EnsureStreams(ctx, js, protocol.StreamsConfig{Replicas: cfg.Replicas}); err != nil {
		return fmt.Errorf("driver streams: %w", err)
	}
	parked, err := parking.New(ctx, js, parking.Config{Replicas: cfg.Replicas})
	if err != nil {
		return fmt.Errorf("parking: %w", err)
	}
	kv, err := etcdstore.Open(ctx, in.etcd, cfg.EtcdPrefix)
	if err != nil {
		return err
	}
	if in.embEtcd != nil {
		kv.SetBulkLimits(etcdstore.EmbeddedBulkLimits)
	}
	archive := func(ctx context.Context, runID string) ([]domain.Event, error) {
		return store.Load(ctx, domain.AggregateRun, runID)
	}
	retention := projections.Retention{EndedRuns: cfg.KeepEndedRuns, Archive: archive}
	readModel := projections.NewReadModel(kv).ReadArchived(archive)
	conds, err := conditions.New()
	if err != nil {
		return err
	}
	vault, err := openVault(ctx, cfg, js, log)
	if err != nil {
		return err
	}
	hooks, err := conditions.NewHooks()
	if err != nil {
		return err
	}
	var vaultPort commands.SecretVault
	var values commands.SecretValues
	var catalog api.SecretCatalog
	if vault != nil {
		vaultPort, values, catalog = vault, vault, secretCatalog(vault)
	}
	handler, err := commands.New(commands.Deps{
		Store: store, Schemas: schema.New(), Resources: readModel,
		Now: time.Now, NewID: func() string { return uuid.NewString() }, Conditions: conds, Secrets: vaultPort,
		Triggers: hooks, Schedules: schedules.Cron{}, SecretValues: values, OffLoopback: !api.IsLoopback(cfg.Addr),
	})
	if err != nil {
		return err
	}
	position := projections.NewPosition()
	position.Refresh = func(ctx context.Context) (int, uint64, error) { return projections.ReadPosition(ctx, kv) }
	position.Generation = kv.Generation
	wake, err := store.Wake(ctx, cfg.NATSURL != "")
	if err != nil {
		return err
	}
	projector, err := projections.NewRunner(projections.RunnerConfig{
		Log: store, Store: kv, Position: position, Wake: wake, Parking: parked, Logger: log.With("component", "projector"),
		Decode: eventjson.DecodeAt, Unmarshal: eventjson.Unmarshal, Retention: retention,
		Lead: func(ctx context.Context) (context.Context, error) { return kv.Lead(ctx, "projector") },
	})
	if err != nil {
		return err
	}
	var tokens *projections.Tokens
	if cfg.Auth || gate != nil {
		if tokens, err = loadTokens(ctx, store); err != nil {
			return err
		}
		if err := ensureAdminToken(ctx, cfg, handler, store, tokens, log); err != nil {
			return err
		}
	}
	apiTLS, err := serverTLS("tls-cert", cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return err
	}
	browser := api.BrowserPolicy{LoopbackOnly: api.IsLoopback(cfg.Addr), CORSOrigins: cfg.CORSOrigins}
	if gate != nil {
		gate.tokens.Store(tokens)
	} else if cfg.NATSURL == "" {
		log.Warn("NATS is open: anyone who reaches " + in.natsURL + " may publish work, forge results and delete streams (--nats-auth=false)")
	}
	apiTokens := tokens
	if !cfg.Auth {
		apiTokens = nil
	}
	driverNATS := ""
	if cfg.NATSURL == "" {
		driverNATS = in.natsURL
	}
	directory := protocol.NewDirectory(js)
	pm := engine.New(handler, protocol.NewDispatcher(js), engine.DefaultWorkers).WithTimers(dueRuns(readModel), cfg.HeartbeatLease)
	writer := protocol.NewWriter(js)
	readers, err := openStreamReaders(in, store, log)
	if err != nil {
		return err
	}
	apiServer, err := api.New(api.Config{MaxBody: cfg.MaxBody, Version: version, Logger: log, ReadWait: cfg.ReadWait, Browser: browser, DriverNATSURL: driverNATS,
		Streams: api.StreamLimits{Max: cfg.MaxStreams, PerToken: cfg.MaxStreamsPerToken}}, api.Deps{
		Commands: handler, Queries: readModel, Logs: protocol.NewLogReader(readers.js).Tailed(readers.logs), Events: store.Tailed(readers.events),
		Maintenance: projections.Maintenance{Log: store, Generations: kv, Unmarshal: eventjson.Unmarshal, Retention: retention},
		Checks:      map[string]api.Check{"nats": in.checkNATS, "etcd": in.checkEtcd},
		Position:    position,
		Parked:      parked,
		Tokens:      tokenTable(apiTokens),
		LogEnd:      store.LastSequence,
		Engine:      pm,
		LogWriter:   writer,
		Broadcaster: writer,
		Drivers:     directory,
		Secrets:     catalog,
	})
	if err != nil {
		return err
	}
	ln, maxConns, err := listenAPI(cfg, log)
	if err != nil {
		return addressTaken(fmt.Errorf("listen on %s: %w", cfg.Addr, err), "addr", cfg.Addr)
	}
	httpServer := newHTTPServer(cfg, apiServer.Handler(), apiTLS, log)
	loadRun := func(ctx context.Context, id string) (domain.Run, error) {
		st, err := handler.LoadRun(ctx, id)
		return st.Run, err
	}
	stopMasking, err := maskLogs(in, loadRun, vault, log)
	if err != nil {
		return err
	}
	defer stopMasking()

	// Drivers ask for their consumer and their secrets as soon as they
	// start: the responders are there before the server says it is ready.
	stopConsumers, err := protocol.ServeConsumers(ctx, in.nc, js, log.With("component", "consumers"))
	if err != nil {
		return err
	}
	defer func() { _ = stopConsumers() }()
	if gate != nil {
		stopOriginal, err := protocol.ServeOriginalConsumers(ctx, in.nc, log.With("component", "consumers"))
		if err != nil {
			return err
		}
		defer func() { _ = stopOriginal() }()
	}
	if vault != nil {
		stopSecrets, err := secrets.Serve(ctx, in.nc, vault, loadRun)
		if err != nil {
			return err
		}
		defer func() { _ = stopSecrets() }()
	}

	scheduler := &engine.Scheduler{Schedules: schedules.Cron{}, Fire: handler.FireTick, Logger: log.With("component", "scheduler")}
	reporting := newReportGate()
	noteTrigger := func(e domain.Event) { scheduler.Apply(e); reporting.note(e) }
	if err := loadAggregate(ctx, store, domain.AggregateTrigger, noteTrigger); err != nil {
		return err
	}
	if err := reporting.openIfConsumed(ctx, js, store.StreamName()); err != nil {
		return fmt.Errorf("the status reporter's consumer: %w", err)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return in.watch(gctx) })
	g.Go(func() error { return projector.Run(gctx) })
	g.Go(func() error { return pm.Run(gctx) })
	g.Go(func() error {
		return eventbus.Run(gctx, in.newConn, eventbus.Config{Logger: log.With("component", "eventbus"), Poison: parked.Publisher("engine"), AckWait: consumerAckWait,
			Redelivered: apiServer.Redelivered("engine")},
			eventbus.Subscription{Name: engineConsumer, Aggregates: engine.Aggregates, Handle: pm.Handle, Workers: engineWorkers})
	})
	g.Go(func() error {
		return protocol.RunIntake(gctx, js, protocol.IntakeConfig{Logger: log.With("component", "intake"), Parking: parked, AckWait: consumerAckWait,
			Workers: engine.DefaultWorkers, RequireSender: cfg.NATSAuth, Redelivered: apiServer.Redelivered("intake")}, pm.RecordResult)
	})
	g.Go(func() error { return directory.Follow(gctx, in.nc) })
	g.Go(func() error {
		return protocol.FollowHeartbeats(gctx, in.nc, func(_ string, hb protocol.Heartbeat, at time.Time) {
			pm.Heartbeat(hb.RunID, hb.Step, hb.Attempt, at, hb.Done)
		})
	})
	g.Go(func() error { return apiServer.Watch(gctx, 500*time.Millisecond) })
	g.Go(func() error { return readers.Run(gctx) })
	g.Go(func() error {
		returnMemoryWhenQuiet(gctx, log, pm.ForgetRuns, store.ForgetEvents, readers.events.Forget, readers.logs.Forget)
		return nil
	})
	g.Go(func() error {
		return followAggregate(gctx, store, domain.AggregateTrigger, scheduler.Sequence, noteTrigger, log.With("component", "scheduler"))
	})
	g.Go(func() error { return scheduler.Run(gctx) })
	if values != nil {
		reporter := &engine.Reporter{Load: store.Load, LoadRun: handler.LoadRun, Tokens: values, Poster: gitstatus.Poster{}, PublicURL: cfg.PublicURL,
			GaveUp: apiServer.StatusReportGivenUp(), Record: handler.RecordStatusReportFailed, Logger: log.With("component", "reporter")}
		g.Go(func() error {
			startAt, ok := reporting.wait(gctx)
			if !ok {
				return nil
			}
			log.Info("reporting runs to git hosts", "from", startAt)
			return eventbus.Run(gctx, in.newConn, eventbus.Config{Logger: log.With("component", "eventbus"), Poison: parked.Publisher(reporterConsumer),
				AckWait: reporterAckWait, Redelivered: apiServer.Redelivered(reporterConsumer)},
				eventbus.Subscription{Name: reporterConsumer, Aggregates: []string{domain.AggregateRun}, Types: engine.ReportedTypes,
					Handle: reporter.Handle, Workers: 4, Prefetch: 32, StartAt: startAt})
		})
	}
	if tokens != nil {
		g.Go(func() error { return followTokens(gctx, store, tokens, in.revoked, log) })
	}
	if cfg.DebugAddr != "" {
		g.Go(func() error { return serveProfiles(gctx, cfg.DebugAddr, log) })
	}
	g.Go(func() error {
		run := httpServer.Serve
		if apiTLS != nil {
			run = func(ln net.Listener) error { return httpServer.ServeTLS(ln, "", "") }
		}
		if err := run(ln); !errors.Is(err, http.ErrServerClosed) {
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
	scheme := "http://"
	if apiTLS != nil {
		scheme = "https://"
	}
	at := endpoints{API: scheme + ln.Addr().String(), NATS: in.natsURL, Etcd: in.etcdEndpoints}
	for _, l := range openListeners(cfg) {
		log.Warn("insecure: listening off loopback without TLS; anyone who can reach it can use it", "flag", "--"+l.flag, "addr", l.addr)
	}
	ready := []any{"api", at.API, "nats", sdk.RedactURL(at.NATS), "etcd", sdk.RedactURL(strings.Join(at.Etcd, ",")),
		"embedded", strings.Join(in.embedded, ","), "max_connections", maxConns, "startup", time.Since(started).Round(time.Millisecond)}
	if cfg.Insecure {
		ready = append(ready, "insecure", true)
	}
	log.Info("conveyor ready", ready...)
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
