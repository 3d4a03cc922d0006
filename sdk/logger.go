package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// Logger writes lines into a run's log: each line is published with
// JetStream on logs.{run_id}, where the server keeps it and streams it to
// clients. It is an io.Writer too: bytes are split into lines, so
// `cmd.Stdout = req.Log` streams a command's output line by line; call Flush
// for a last line without a newline. Safe for concurrent use. A line that
// cannot be published is counted (Dropped) and logged locally, never fatal.
type Logger struct {
	js                            jetstream.JetStream
	runID, driver, pipeline, step string
	attempt                       int
	local                         *slog.Logger

	mu      sync.Mutex
	partial []byte
	dropped atomic.Int64
	// halted is set once the server stopped the work: later lines are
	// not stored (see stop).
	halted atomic.Bool
	// secrets are values masked in every line.
	secrets []string
}

// stop writes a last line saying why the work was stopped; lines logged
// after it are not stored, so a cancelled run's log ends where it was
// cancelled. They still reach the local logger at debug level.
func (l *Logger) stop(reason string) {
	if l == nil || l.halted.Load() {
		return
	}
	l.line("stopped: " + reason + "; later lines of this step are not stored")
	l.halted.Store(true)
}

func newLogger(js jetstream.JetStream, runID, driver, pipeline, step string, attempt int, local *slog.Logger) *Logger {
	return &Logger{js: js, runID: runID, driver: driver, pipeline: pipeline, step: step, attempt: attempt, local: local}
}

// Printf writes one formatted line.
func (l *Logger) Printf(format string, args ...any) { l.line(fmt.Sprintf(format, args...)) }

// Println writes one line of its operands, separated by spaces.
func (l *Logger) Println(args ...any) {
	s := fmt.Sprintln(args...)
	l.line(s[:len(s)-1])
}

// Write implements io.Writer: every complete line is published.
func (l *Logger) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.partial = append(l.partial, p...)
	var lines []string
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(bytes.TrimRight(l.partial[:i], "\r")))
		l.partial = l.partial[i+1:]
	}
	l.mu.Unlock()
	for _, line := range lines {
		l.line(line)
	}
	return len(p), nil
}

// Flush publishes a pending partial line and waits until every line so far
// is stored (or 5 seconds passed).
func (l *Logger) Flush() {
	l.mu.Lock()
	rest := string(l.partial)
	l.partial = nil
	l.mu.Unlock()
	if rest != "" {
		l.line(rest)
	}
	if l.js == nil {
		return
	}
	select {
	case <-l.js.PublishAsyncComplete():
	case <-time.After(5 * time.Second):
	}
}

// Dropped counts lines that could not be published.
func (l *Logger) Dropped() int64 { return l.dropped.Load() }

func (l *Logger) line(msg string) {
	if l == nil {
		return
	}
	msg = masked(msg, l.secrets)
	l.local.Debug(msg, "run", l.runID, "driver", l.driver)
	if l.js == nil || l.runID == "" || l.halted.Load() {
		return
	}
	now := time.Now()
	body, _ := json.Marshal(protocol.LogLine{RunID: l.runID, Driver: l.driver, Pipeline: l.pipeline,
		Timestamp: protocol.Timestamp(strconv.FormatInt(now.Unix(), 10)), Message: msg, Labels: map[string]string{},
		Time: now.UTC().Format(time.RFC3339Nano), Step: l.step, Attempt: l.attempt})
	ack, err := l.publish(body)
	if err != nil {
		l.drop(err)
		return
	}
	go func() {
		select {
		case <-ack.Ok():
		case err := <-ack.Err():
			l.drop(err)
		}
	}()
}

// stalledWait bounds how long a line waits for the server to acknowledge
// the lines before it when too many are outstanding: a burst of lines waits
// for the server instead of being dropped, and only a server that takes no
// line for that long loses one (a step is not held up long by a server
// that is away).
const stalledWait = 5 * time.Second

// publish sends body, waiting while too many lines are on their way.
func (l *Logger) publish(body []byte) (jetstream.PubAckFuture, error) {
	deadline := time.Now().Add(stalledWait)
	for {
		ack, err := l.js.PublishAsync(protocol.LogSubject(l.runID), body)
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) || time.Now().After(deadline) {
			return ack, err
		}
		select {
		case <-l.js.PublishAsyncComplete():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (l *Logger) drop(err error) {
	l.dropped.Add(1)
	l.local.Warn("log line not stored", "run", l.runID, "driver", l.driver, "err", err)
}
