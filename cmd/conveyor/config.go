package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/conveyor/conveyor/api"
)

// serverConfig is everything `conveyor server` can be told. Every flag has an
// environment twin (envName); a flag given on the command line wins.
type serverConfig struct {
	Addr          string
	DataDir       string
	NATSListen    string
	NATSURL       string
	EtcdEndpoints []string
	EtcdPrefix    string
	// EtcdUser is USER:PASSWORD of an etcd with authentication on
	// (deploy/etcd); empty: none.
	EtcdUser   string
	Replicas   int
	MaxBody    int64
	SyncAlways bool
	LogLevel   string
	DebugAddr  string
	// Auth turns authentication of the API on (the default).
	Auth bool
	// NATSAuth makes the embedded NATS require credentials and the result
	// intake refuse results that name no driver (the default); off is the
	// open mode of drivers of the original runtime (docs/security.md).
	NATSAuth bool
	// AdminTokenFile holds the secret of the local admin token; see
	// adminTokenPath.
	AdminTokenFile string
	// ReadWait bounds how long a read waits for the read models to reach
	// the log position it needs.
	ReadWait time.Duration
	// HeartbeatLease is how long a step's driver may fall silent after a
	// heartbeat before its attempt times out; 0: engine.DefaultHeartbeatLease.
	HeartbeatLease time.Duration
	// IdleTimeout closes an API keep-alive connection that has been idle
	// this long; 0: defaultIdleTimeout.
	IdleTimeout time.Duration
	// ReadTimeout bounds how long a client may take to send a request,
	// headers and body; 0: defaultReadTimeout.
	ReadTimeout time.Duration
	// MaxConnections bounds the API's open connections; 0: derived from
	// the descriptor limit (see maxConnections).
	MaxConnections int
	// Insecure allows listening off loopback without TLS.
	Insecure bool
	// TLSCert and TLSKey, when set, make the API serve HTTPS.
	TLSCert, TLSKey string
	// NATSTLSCert and NATSTLSKey, when set, make the embedded NATS require TLS.
	NATSTLSCert, NATSTLSKey string
	// CORSOrigins are the other sites' origins allowed to call the API from
	// a browser.
	CORSOrigins []string
	// PublicURL is the web UI's address as users reach it (behind a proxy,
	// say): commit statuses reported to git hosts link to its run pages.
	PublicURL string
	// MaxStreams and MaxStreamsPerToken bound the log and event streams
	// served at once, in all and per token; 0: the API's defaults.
	MaxStreams, MaxStreamsPerToken int
	// KeepEndedRuns is how many ended runs the read models keep (0: all).
	KeepEndedRuns int
}

// defaultKeepEndedRuns is how many ended runs the read models keep unless
// told otherwise: a few days of a busy team's runs, listed and filtered
// from etcd; older ones are read by id from the log.
const defaultKeepEndedRuns = 5000

// parseServerFlags reads flags, with defaults from the environment.
func parseServerFlags(args []string, env func(string) string, stderr io.Writer) (serverConfig, error) {
	var c serverConfig
	var endpoints string
	fs := flag.NewFlagSet("conveyor server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	str := func(p *string, name, def, help string) {
		fs.StringVar(p, name, envOr(env, name, def), help+" (env "+envName(name)+")")
	}
	str(&c.Addr, "addr", "127.0.0.1:8080", "address of the REST API")
	str(&c.DataDir, "data-dir", "./conveyor-data", "directory of the embedded NATS and etcd data")
	str(&c.NATSListen, "nats-listen", "127.0.0.1:4222", "address of the embedded NATS server, for drivers")
	str(&c.NATSURL, "nats-url", "", "external NATS cluster (empty: embed NATS)")
	str(&endpoints, "etcd-endpoints", "", "external etcd endpoints, comma-separated (empty: embed etcd)")
	str(&c.EtcdPrefix, "etcd-prefix", "/conveyor", "key prefix of the read models in etcd")
	str(&c.EtcdUser, "etcd-user", "", "USER:PASSWORD for external etcd with authentication on; prefer the environment variable, which ps does not show")
	str(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	str(&c.AdminTokenFile, "admin-token-file", "", "file of the admin token for the CLI: kept if it holds one, else written (default: admin.token in the data directory when NATS is embedded)")
	str(&c.DebugAddr, "debug-addr", "", "address serving Go's runtime profiles under /debug/pprof/ (empty: none; off loopback only with --insecure: the profiles have no token)")
	str(&c.TLSCert, "tls-cert", "", "PEM certificate (chain) of the API: serve HTTPS")
	str(&c.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	str(&c.NATSTLSCert, "nats-tls-cert", "", "PEM certificate (chain) of the embedded NATS: require TLS")
	str(&c.NATSTLSKey, "nats-tls-key", "", "PEM private key of --nats-tls-cert")
	var replicas, maxBody, readWait, corsOrigins, idleTimeout, readTimeout, maxConns, keepEnded string
	str(&c.PublicURL, "public-url", "", "the server's address as users reach it, e.g. https://ci.example.com: commit statuses reported to git hosts link to its run pages (empty: they link nowhere)")
	str(&corsOrigins, "cors-origin", "", "origins of other sites allowed to call the API from a browser, comma-separated (empty: CORS off)")
	str(&readWait, "read-wait", "5s", "how long a read waits for the read models to reach the log position it needs before it answers 503")
	str(&replicas, "replicas", "1", "replicas of the JetStream streams (3 in a cluster)")
	str(&maxBody, "max-body", "1048576", "largest request body in bytes")
	str(&idleTimeout, "idle-timeout", defaultIdleTimeout.String(), "close an API keep-alive connection idle this long")
	str(&readTimeout, "read-timeout", defaultReadTimeout.String(), "how long a client may take to send a request, headers and body (headers alone: "+headerTimeout.String()+")")
	str(&keepEnded, "keep-ended-runs", strconv.Itoa(defaultKeepEndedRuns), "ended runs the read models keep, the latest to end (0: all); an older run is still read by its id, from the log")
	str(&maxConns, "max-connections", "0", "most API connections open at once; the next few are answered 503, later ones wait (0: derived from the limit on open files)")
	var maxStreams, maxStreamsPerToken string
	str(&maxStreams, "max-streams", strconv.Itoa(api.DefaultMaxStreams), "most log and event streams served at once; the next is answered 503 with Retry-After")
	str(&maxStreamsPerToken, "max-streams-per-token", strconv.Itoa(api.DefaultMaxStreamsPerToken), "most log and event streams one token holds at once; the next is answered 429 with Retry-After")
	var errs []error
	boolean := func(p *bool, name, help string, defaultValue ...bool) {
		def, err := strconv.ParseBool(envOr(env, name, strconv.FormatBool(len(defaultValue) > 0 && defaultValue[0])))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not true or false", envName(name), env(envName(name))))
		}
		fs.BoolVar(p, name, def, help+" (env "+envName(name)+")")
	}
	boolean(&c.SyncAlways, "sync-always", "fsync every JetStream write: survives a power loss, costs speed")
	boolean(&c.Insecure, "insecure", "allow the API, the embedded NATS or the profiles (--debug-addr) to listen off loopback without TLS")
	boolean(&c.Auth, "auth", "require a bearer token on every API request but health and the API's description; --auth=false opens the API to anyone who can reach it", true)
	boolean(&c.NATSAuth, "nats-auth", "require credentials on the embedded NATS (each driver its own, from 'conveyor drivers credentials') and refuse results that name no driver; --nats-auth=false is the open mode drivers of the original runtime need", true)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var err error
	if c.Replicas, err = strconv.Atoi(replicas); err != nil {
		errs = append(errs, fmt.Errorf("--replicas: %q is not a number", replicas))
	}
	if c.MaxBody, err = strconv.ParseInt(maxBody, 10, 64); err != nil {
		errs = append(errs, fmt.Errorf("--max-body: %q is not a number", maxBody))
	}
	if c.ReadWait, err = time.ParseDuration(readWait); err != nil {
		errs = append(errs, fmt.Errorf("--read-wait: %q is not a duration such as 5s", readWait))
	}
	if c.IdleTimeout, err = time.ParseDuration(idleTimeout); err != nil {
		errs = append(errs, fmt.Errorf("--idle-timeout: %q is not a duration such as 2m", idleTimeout))
	}
	if c.ReadTimeout, err = time.ParseDuration(readTimeout); err != nil {
		errs = append(errs, fmt.Errorf("--read-timeout: %q is not a duration such as 1m", readTimeout))
	}
	if c.KeepEndedRuns, err = strconv.Atoi(keepEnded); err != nil || c.KeepEndedRuns < 0 {
		errs = append(errs, fmt.Errorf("--keep-ended-runs: %q is not a number of runs (0: all)", keepEnded))
	}
	if c.MaxStreams, err = strconv.Atoi(maxStreams); err != nil || c.MaxStreams < 1 {
		errs = append(errs, fmt.Errorf("--max-streams: %q is not a number of streams (1 or more)", maxStreams))
	}
	if c.MaxStreamsPerToken, err = strconv.Atoi(maxStreamsPerToken); err != nil || c.MaxStreamsPerToken < 1 {
		errs = append(errs, fmt.Errorf("--max-streams-per-token: %q is not a number of streams (1 or more)", maxStreamsPerToken))
	}
	if c.MaxConnections, err = strconv.Atoi(maxConns); err != nil {
		errs = append(errs, fmt.Errorf("--max-connections: %q is not a number", maxConns))
	}
	c.EtcdEndpoints = splitList(endpoints)
	c.CORSOrigins = splitList(corsOrigins)
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		errs = append(errs, fmt.Errorf("--public-url: %q is not an http or https URL", c.PublicURL))
	}
	errs = append(errs, c.Validate())
	return c, errors.Join(errs...)
}

// Validate reports every setting that cannot work.
func (c serverConfig) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("--addr is required"))
	}
	if c.DataDir == "" && (c.NATSURL == "" || len(c.EtcdEndpoints) == 0) {
		errs = append(errs, errors.New("--data-dir is required when NATS or etcd is embedded"))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("--replicas must be 1 to 5, not %d", c.Replicas))
	}
	if c.MaxBody < 1 {
		errs = append(errs, fmt.Errorf("--max-body must be positive, not %d", c.MaxBody))
	}
	if c.ReadWait < 0 {
		errs = append(errs, fmt.Errorf("--read-wait must not be negative, not %v", c.ReadWait))
	}
	if c.IdleTimeout < 0 || c.ReadTimeout < 0 {
		errs = append(errs, errors.New("--idle-timeout and --read-timeout must not be negative"))
	}
	if c.MaxConnections < 0 {
		errs = append(errs, fmt.Errorf("--max-connections must not be negative, not %d", c.MaxConnections))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if (c.NATSTLSCert == "") != (c.NATSTLSKey == "") {
		errs = append(errs, errors.New("--nats-tls-cert and --nats-tls-key go together"))
	}
	errs = append(errs, exposure(c), api.BrowserPolicy{CORSOrigins: c.CORSOrigins}.Validate())
	return errors.Join(errs...)
}

// splitList is the non-empty items of a comma-separated list.
func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("--log-level: %q is not debug, info, warn or error", s)
	}
	return l, nil
}

// externalFlags are the flags that reach an external cluster. Their variables
// are CONVEYOR_CLUSTER_<FLAG>, so that none is a client's or a driver's
// (CONVEYOR_NATS_URL is where drivers find NATS): a shell that exports the
// drivers' settings still starts an embedded server (DESIGN.md §4).
var externalFlags = map[string]bool{"nats-url": true, "etcd-endpoints": true, "etcd-user": true}

// envName is the environment variable of a server flag: CONVEYOR_<FLAG>, or
// CONVEYOR_CLUSTER_<FLAG> for the flags of externalFlags.
func envName(flagName string) string {
	name := strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
	if externalFlags[flagName] {
		return "CONVEYOR_CLUSTER_" + name
	}
	return "CONVEYOR_" + name
}

func envOr(env func(string) string, flagName, def string) string {
	if v := env(envName(flagName)); v != "" {
		return v
	}
	return def
}
