package api

import (
	"context"
	"encoding/json"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"

	"github.com/conveyor/conveyor/projections"
)

// Queries is the read side the API serves reads from.
type Queries interface {
	Definition(ctx context.Context, name string) (projections.DefinitionView, error)
	Definitions(ctx context.Context, p projections.Page) ([]projections.DefinitionView, string, error)
	Resource(ctx context.Context, typ, name string) (projections.ResourceView, error)
	Resources(ctx context.Context, typ string, p projections.Page) ([]projections.ResourceView, string, error)
	ResourceVersions(ctx context.Context, typ, name string, p projections.Page) ([]projections.ResourceView, string, error)
	ResourceVersion(ctx context.Context, typ, name string, version int) (projections.ResourceView, error)
	Pipeline(ctx context.Context, name string) (projections.PipelineView, error)
	Pipelines(ctx context.Context, p projections.Page) ([]projections.PipelineView, string, error)
	Run(ctx context.Context, id string) (projections.RunView, error)
	StatusReports(ctx context.Context, runID string) ([]domain.StatusReport, error)
	Runs(ctx context.Context, f projections.RunFilter, p projections.Page) ([]projections.RunView, string, error)
	RunsByIDPrefix(ctx context.Context, prefix string, p projections.Page) ([]projections.RunView, string, error)
	Trigger(ctx context.Context, name string) (projections.TriggerView, error)
	Triggers(ctx context.Context, p projections.Page) ([]projections.TriggerView, string, error)
	Deliveries(ctx context.Context, trigger string) ([]projections.Delivery, error)
}

// Logs reads stored log lines of runs, and follows them as they arrive.
type Logs interface {
	RunLogs(ctx context.Context, q projections.LogQuery) ([]projections.LogLine, error)
	// LineAt is the number of the line at sequence q.After among the lines
	// q numbers (projections.LogQuery.Numbers): where a follow from there
	// goes on counting.
	LineAt(ctx context.Context, q projections.LogQuery) (int, error)
	// FollowLogs calls fn for each line after sequence after, stored then
	// live, until ctx ends, fn fails, or idle reports true once caught up.
	FollowLogs(ctx context.Context, runID string, after uint64, fn func(projections.LogLine) error, idle func() bool) error
}

// EventLog is the event log, read for audits.
type EventLog interface {
	// Events returns a page of events, each as its JSON with its log
	// sequence, and the After of the next page (0 on the last).
	Events(ctx context.Context, q projections.EventQuery) ([]json.RawMessage, uint64, error)
	Follow(ctx context.Context, q projections.EventQuery, fn func(domain.Event) error) error
	// Load is commands.EventStore's: an aggregate's events, from its last
	// snapshot on.
	Load(ctx context.Context, aggregate, id string) ([]domain.Event, error)
}

// ParkedLog keeps the events consumers of the log set aside because they
// could not handle them: listed and dismissed by operators, counted by the
// readiness check and the metrics.
type ParkedLog interface {
	// List returns up to limit entries after the ID after, in the order they
	// were parked, and the after of the next page (0 on the last).
	List(ctx context.Context, after uint64, limit int) ([]projections.ParkedEvent, uint64, error)
	Count(ctx context.Context) (uint64, error)
	// Remove dismisses one entry; an unknown id matches domain.ErrNotFound.
	Remove(ctx context.Context, id uint64) error
}

// Deps are what the API serves from; Commands, Queries, Logs and Events are
// required.
type Deps struct {
	Commands *commands.Handler
	Queries  Queries
	Logs     Logs
	Events   EventLog
	// Maintenance, when set, rebuilds and verifies the read models.
	Maintenance Maintenance
	// Parked, when set, serves /admin/parked and reports parked events in
	// /ready and /metrics.
	Parked ParkedLog
	// Checks are the readiness probes, by dependency name ("nats", "etcd").
	Checks map[string]Check
	// Position, when set, is how far the read models have applied the log:
	// reads wait for it to reach the position they need.
	Position *projections.Position
	// Tokens, when set, turns authentication on: every request but the
	// public ones needs a bearer token whose role allows it, and /tokens
	// manages them.
	Tokens TokenTable
	// LogEnd, with Position, reports the projector's lag in /ready and
	// /metrics.
	LogEnd LogEnd
	// Engine, when set, reports in /metrics what this server's engine did.
	Engine EngineStats
	// LogWriter, when set, serves POST /logs.
	LogWriter LogWriter
	// Broadcaster, when set, serves POST /drivers/broadcast-message.
	Broadcaster Broadcaster
	// Drivers, when set, serves GET /drivers, warns of pipelines naming a
	// driver never seen, and says which run steps wait for a driver with
	// no instance connected.
	Drivers DriverDirectory
	// Secrets, when set, serves /secrets.
	Secrets SecretCatalog
}

// DriverDirectory knows which drivers exist and which are connected.
type DriverDirectory interface {
	Drivers(ctx context.Context) ([]projections.DriverView, error)
	Driver(ctx context.Context, name string) (projections.DriverView, bool, error)
	// Connected reports whether an instance of driver with every one of
	// labels is connected (no labels: any instance).
	Connected(ctx context.Context, driver string, labels []string) bool
	Seen(ctx context.Context, driver string) bool
}

// TokenTable is the read model of API tokens: it authenticates requests,
// lists the active tokens, and takes a token event as soon as this server
// wrote it.
type TokenTable interface {
	Authenticator
	Active() []domain.Token
	Apply(domain.Event)
	// ByHash is the active token whose secret has this hash: what an
	// open stream checks its token against.
	ByHash(hash string) (domain.Token, bool)
}

// EngineStats is what the engine of this server reports.
type EngineStats interface {
	StepsDispatched() uint64
}

// Check is a readiness probe of one dependency; nil means reachable.
type Check func(ctx context.Context) error
