package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/conveyor/conveyor/api/ui"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// DefaultMaxBody is the request body limit unless Config.MaxBody says
// otherwise: 1 MiB.
const DefaultMaxBody = 1 << 20

// Config configures the API.
type Config struct {
	// MaxBody is the largest request body accepted, in bytes; a larger one is
	// answered with 413. Zero means DefaultMaxBody.
	MaxBody int64
	// Version is the server's version, shown in the OpenAPI document.
	Version string
	// Logger receives failures that become 500s. Nil discards them.
	Logger *slog.Logger
	// ReadWait bounds how long a read waits for the read models to reach
	// the position it needs (default DefaultReadWait).
	ReadWait time.Duration
	// Browser is what the API accepts from web browsers.
	Browser BrowserPolicy
	// DriverNATSURL is the address of the server's NATS for drivers,
	// without credentials; `POST /drivers/{name}/credentials` answers it
	// with a driver's token in it. Empty: NATS is someone else's (cluster
	// mode), whose configuration holds the drivers' identities.
	DriverNATSURL string
	// Streams bound the log and event streams served at once.
	Streams StreamLimits
}

func (c *Config) setDefaults() {
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ReadWait == 0 {
		c.ReadWait = DefaultReadWait
	}
	c.Streams.setDefaults()
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.MaxBody < 0 {
		return errors.New("api: MaxBody must not be negative")
	}
	return errors.Join(c.Streams.Validate(), c.Browser.Validate())
}

// Server is Conveyor's HTTP API. Its handler is safe for concurrent use.
type Server struct {
	cfg    Config
	cmd    *commands.Handler
	q      Queries
	logs   Logs
	events EventLog
	// maintenance, when set, serves the admin endpoints.
	maintenance Maintenance
	rebuildMu   sync.Mutex
	// parked, when set, serves the parked events.
	parked  ParkedLog
	checks  map[string]Check
	log     *slog.Logger
	mux     *http.ServeMux
	api     huma.API
	metrics *metrics
	health  healthState
	// position is how far the read models got; writes, what this server
	// wrote.
	position *projections.Position
	writes   commands.Writes
	// logEnd, when set with position, measures the projector's lag.
	logEnd LogEnd
	// auth, when set, authenticates requests; tokens lists and updates
	// the tokens it knows.
	auth   Authenticator
	tokens TokenTable
	// drivers, when set, knows the drivers (see Deps.Drivers).
	drivers DriverDirectory
	// streams are the log and event streams being served.
	streams *streamRegistry
	// hookMemory is the latest deliveries that wrote nothing, answered by
	// this replica.
	hookMemory *deliveryMemory
}

// New builds the API over its dependencies.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Commands == nil || deps.Queries == nil || deps.Logs == nil || deps.Events == nil {
		return nil, errors.New("api: Commands, Queries, Logs and Events are required")
	}
	hc := huma.DefaultConfig("Conveyor API", cfg.Version)
	hc.Info.Description = "Resource-driven CI/CD: resource definitions, resources, pipelines and runs."
	hc.CreateHooks = nil // no $schema field or Link header in responses
	hc.DocsPath = ""     // /docs is served offline by package ui
	hc.Formats = map[string]huma.Format{"application/json": exactJSON, "json": exactJSON}
	describeAPI(hc.OpenAPI, cfg.MaxBody)
	if deps.Tokens != nil {
		hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
			securityScheme: {Type: "http", Scheme: "bearer", Description: "An API token: `conveyor tokens create NAME --role ROLE` prints one."},
		}
	}
	mux := http.NewServeMux()
	s := &Server{cfg: cfg, cmd: deps.Commands, q: deps.Queries, logs: deps.Logs, events: deps.Events, maintenance: deps.Maintenance,
		parked: deps.Parked, checks: deps.Checks, position: deps.Position, log: cfg.Logger, mux: mux,
		api: humago.New(mux, hc), metrics: newMetrics(), streams: newStreamRegistry(cfg.Streams),
		hookMemory: newDeliveryMemory()}
	if deps.Tokens != nil {
		s.auth, s.tokens = deps.Tokens, deps.Tokens
	}
	if deps.LogEnd != nil && deps.Position != nil {
		s.logEnd = deps.LogEnd
		s.metrics.measureLag(s)
	}
	if deps.Engine != nil {
		s.metrics.countEngine(deps.Engine)
	}
	s.registerHealth()
	s.registerDefinitions()
	s.registerResources()
	s.registerPipelines()
	s.registerRuns()
	s.registerApprovals()
	s.registerLogs()
	s.registerEvents()
	s.registerStreams()
	s.registerAdmin()
	s.registerParked()
	s.registerTokens()
	s.registerMe()
	s.registerFallback()
	s.registerCredentials()
	s.registerDrivers(deps.LogWriter, deps.Broadcaster)
	s.drivers = deps.Drivers
	s.registerDriverDirectory()
	s.registerSecrets(deps.Secrets)
	s.registerTriggers()
	s.registerTriggerTry()
	s.registerTriggerDeliveries()
	s.registerHooks()
	ui.Register(s.mux)
	annotatePatterns(s.api.OpenAPI())
	addExamples(s.api.OpenAPI())
	return s, nil
}

// Mux is the request multiplexer, for streams mounted beside the huma
// operations.
func (s *Server) Mux() *http.ServeMux { return s.mux }

// Handler serves the API: trailing slashes are accepted, every request is
// counted in the metrics, and what browsers may send is limited by the
// BrowserPolicy.
func (s *Server) Handler() http.Handler {
	return s.metrics.middleware(trimTrailingSlash(s.rememberHookAnswers(browserSafe(s.cfg.Browser, s.authenticate(s.failFast(s.readYourWrites(s.mux)))))))
}

// op describes an operation with the API's body limit: summary is its one
// line, description says what it does and which answers it gives besides
// the ones every operation of its kind gives (see documentAnswers).
// With authentication on, it also declares the security scheme and the role
// the operation needs (see accessOf).
func (s *Server) op(method, path, id, summary, description, tag string) huma.Operation {
	op := huma.Operation{
		OperationID: id, Method: method, Path: path, Summary: summary, Description: description, Tags: []string{tag},
		// huma answers 413 when it reads exactly MaxBodyBytes; allow MaxBody itself.
		MaxBodyBytes: s.cfg.MaxBody + 1,
	}
	if s.auth != nil {
		declareAccess(&op, accessOf(method, path))
	}
	return op
}

// trimTrailingSlash serves "/resources/" as "/resources".
func trimTrailingSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
			u := *r.URL
			u.Path, u.RawPath = strings.TrimRight(p, "/"), ""
			if u.Path == "" {
				u.Path = "/"
			}
			r.URL = &u // the same request, so the route the mux matched is seen by the metrics
		}
		next.ServeHTTP(w, r)
	})
}
