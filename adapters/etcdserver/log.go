package etcdserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger is etcd's logger: its warnings and errors go to log, and a
// fatal error reports to fail and ends only the goroutine that logged it,
// where zap would end the process with status 1 and no word of why. Once
// quiet is set (by Close), only fatal errors are logged: etcd reports its
// listeners closing as errors.
func newLogger(log *slog.Logger, fail func(error), quiet *atomic.Bool) *zap.Logger {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return zap.New(&slogCore{log: log, quiet: quiet}, zap.WithFatalHook(fatalHook(fail)))
}

// startNotices are warnings and errors etcd gives at every start, or at the
// first start of a new member, that do not apply to a single loopback
// member or mend themselves (the storage version is written once the first
// term is); they are logged at debug.
var startNotices = map[string]bool{
	"Failed to detect schema version":                                                      true,
	"failed to update storage version":                                                     true,
	"simple token is not cryptographically signed":                                         true,
	"Running http and grpc server on single port. This is not recommended for production.": true,
}

// startCampaignNotice ends raft's warning, prefixed with the member's id,
// that a new single member waits for its own configuration entry before it
// campaigns; it does, a few milliseconds later.
const startCampaignNotice = "since there are still pending configuration changes to apply"

// slogCore writes zap entries at warn and above to a slog.Logger; etcd's
// info lines (dozens at every start) are left out.
type slogCore struct {
	log    *slog.Logger
	quiet  *atomic.Bool
	fields []zapcore.Field
}

func (c *slogCore) Enabled(l zapcore.Level) bool {
	if c.quiet.Load() && l < zapcore.FatalLevel {
		return false
	}
	return l >= zapcore.WarnLevel && c.log.Enabled(context.Background(), slogLevel(l))
}

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	return &slogCore{log: c.log, quiet: c.quiet, fields: append(slices.Clip(c.fields), fields...)}
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	attrs := make([]slog.Attr, 0, len(enc.Fields))
	for k, v := range enc.Fields {
		attrs = append(attrs, slog.Any(k, v))
	}
	slices.SortFunc(attrs, func(a, b slog.Attr) int { return strings.Compare(a.Key, b.Key) })
	level := slogLevel(e.Level)
	if startNotices[e.Message] || strings.HasSuffix(e.Message, startCampaignNotice) {
		level = slog.LevelDebug
	}
	c.log.LogAttrs(context.Background(), level, e.Message, attrs...)
	return nil
}

func (c *slogCore) Sync() error { return nil }

func slogLevel(l zapcore.Level) slog.Level {
	if l == zapcore.WarnLevel {
		return slog.LevelWarn
	}
	if l < zapcore.WarnLevel {
		return slog.LevelInfo
	}
	return slog.LevelError
}

// fatalHook runs after etcd logged a fatal error: it reports the error and
// ends the calling goroutine (deferred calls run), since etcd's code does
// not expect Fatal to return. The process stays up to shut down in order.
type fatalHook func(error)

func (h fatalHook) OnWrite(ce *zapcore.CheckedEntry, fields []zapcore.Field) {
	err := errors.New(ce.Message)
	for _, f := range fields {
		if cause, ok := f.Interface.(error); ok && f.Type == zapcore.ErrorType {
			err = fmt.Errorf("%s: %w", ce.Message, cause)
		}
	}
	h(err)
	runtime.Goexit()
}
