package sdk

import (
	"io"
	"log/slog"
	"os"
	"strings"
)

// EnvLogLevel sets what a driver logs of its own life on stderr when no
// WithLogger is given: debug, info (the default: connecting, waiting for
// the server, each piece of work taken and its result, losing and regaining
// NATS), warn, error, or off.
const EnvLogLevel = "CONVEYOR_LOG_LEVEL"

// defaultLogger is the logger of a driver given none: text on w at the
// level level names (see EnvLogLevel); an unknown level is info.
func defaultLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "off", "none":
		return slog.New(slog.DiscardHandler)
	case "debug":
		l = slog.LevelDebug
	case "warn", "warning":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// stderrLogger is defaultLogger on stderr at the level of EnvLogLevel.
func stderrLogger() *slog.Logger { return defaultLogger(os.Stderr, os.Getenv(EnvLogLevel)) }
