package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
)

// Streams are plain handlers beside the huma operations: WebSocket and
// server-sent events do not fit huma's request/response model. docs/api.md
// describes them.

// streamBuffer is how far a client may fall behind before it is cut off.
const streamBuffer = 1024

// stallLimit bounds one write to a client: a client that takes nothing
// for this long is dropped without a word. A client that is cut off for
// being too slow gets its close frame after the message in flight, however
// long it stalled, up to this bound.
const stallLimit = time.Minute

// errTooSlow ends the stream of a client that fell too far behind.
var errTooSlow = fmt.Errorf("client too slow: fell more than %d messages behind", streamBuffer)

func (s *Server) registerStreams() {
	open := s.metrics.openStreams()
	s.mux.HandleFunc("GET /runs/{id}/logs/stream", counted(open, "logs", s.streamRunLogs))
	s.mux.HandleFunc("GET /events/stream", counted(open, "events", s.streamEvents))
	// The older endpoints of Conveyor CI, as server-sent events.
	sseLogs := counted(open, "sse", func(w http.ResponseWriter, r *http.Request) {
		s.sseLogs(w, r, r.URL.Query().Get("runid"), r.URL.Query().Get("driver"))
	})
	s.mux.HandleFunc("GET /logs", func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			sseLogs(w, r)
			return
		}
		s.logLines(w, r)
	})
	s.mux.HandleFunc("GET /logs/streams/{driver}/{runid}", counted(open, "sse", func(w http.ResponseWriter, r *http.Request) {
		s.sseLogs(w, r, r.PathValue("runid"), r.PathValue("driver"))
	}))
	s.mux.HandleFunc("GET /logs/pipeline/{runid}", counted(open, "sse", func(w http.ResponseWriter, r *http.Request) {
		s.sseLogs(w, r, r.PathValue("runid"), "")
	}))
}

// runAppears waits a little for a run: its Run ID is handed out with the
// resource change, a moment before the engine records the run.
func (s *Server) runAppears(ctx context.Context, runID string) bool {
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, err := s.q.Run(ctx, runID); err == nil {
			return true
		}
		if time.Now().After(deadline) || !domain.ValidRunID(runID) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// runEnded is the idle check of a log follow: true once the run has ended.
func (s *Server) runEnded(ctx context.Context, runID string) func() bool {
	return func() bool {
		v, err := s.q.Run(ctx, runID)
		return err == nil && v.Ended()
	}
}

// pump runs produce, which sends messages on out (never blocking: a full
// buffer is errTooSlow), and writes them to the client with write; it
// returns the first error of either. Once the client is too slow, what is
// still queued is dropped: the client's last message is the one in flight,
// and the caller's next word to it is why.
//
// With gather above 1, each write carries up to gather messages already
// queued, as one JSON array of them (the messages are JSON values).
func pump(ctx context.Context, produce func(ctx context.Context, send func([]byte) error) error,
	write func(ctx context.Context, msg []byte) error, gather int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan []byte, streamBuffer)
	var behind atomic.Bool
	produced := make(chan error, 1)
	go func() {
		defer close(out)
		produced <- produce(ctx, func(msg []byte) error {
			select {
			case out <- msg:
				return nil
			default:
				behind.Store(true)
				return errTooSlow
			}
		})
	}()
	var err error
	for msg := range out {
		if behind.Load() {
			break
		}
		if gather > 1 {
			msg = gathered(msg, out, gather)
		}
		wctx, wcancel := context.WithTimeout(ctx, stallLimit)
		err = write(wctx, msg)
		wcancel()
		if err != nil {
			break
		}
	}
	cancel()
	for range out { // let the producer finish
	}
	if perr := <-produced; err == nil {
		err = perr
	}
	return err
}

// gathered is first and up to n-1 more messages already waiting on out, as
// one JSON array.
func gathered(first []byte, out <-chan []byte, n int) []byte {
	buf := append(append(make([]byte, 0, len(first)*4+2), '['), first...)
	for range n - 1 {
		select {
		case msg, ok := <-out:
			if !ok {
				return append(buf, ']')
			}
			buf = append(append(buf, ','), msg...)
		default:
			return append(buf, ']')
		}
	}
	return append(buf, ']')
}

// batchSize is how many lines or events one message of a stream asked with
// batch=true carries at most.
const batchSize = 500

// batched is the gather of a stream request: batchSize with ?batch=true.
func batched(r *http.Request) int {
	if ok, _ := strconv.ParseBool(r.URL.Query().Get("batch")); ok {
		return batchSize
	}
	return 1
}

// streamRunLogs is GET /runs/{id}/logs/stream: a WebSocket that sends the
// stored lines of the run, then the live ones, in order, each once, and
// closes normally once the run has ended and every line is sent.
func (s *Server) streamRunLogs(w http.ResponseWriter, r *http.Request) {
	runID := r.PathValue("id")
	if !s.runAppears(r.Context(), runID) {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("run %q not found", runID))
		return
	}
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	driver := r.URL.Query().Get("driver")
	serveWebSocket(w, r, "run ended", func(ctx context.Context, send func([]byte) error) error {
		return s.logs.FollowLogs(ctx, runID, after, func(l projections.LogLine) error {
			if driver != "" && l.Driver != driver {
				return nil
			}
			data, _ := json.Marshal(l)
			return send(data)
		}, s.runEnded(ctx, runID))
	})
}

// serveWebSocket upgrades the request and sends what produce makes, through
// pump, then closes with a reason (normal when produce ended by itself).
func serveWebSocket(w http.ResponseWriter, r *http.Request, normal string, produce func(context.Context, func([]byte) error) error) {
	gather := batched(r)
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsProtocol}})
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := c.CloseRead(r.Context())
	err = pump(ctx, produce, func(ctx context.Context, msg []byte) error { return c.Write(ctx, websocket.MessageText, msg) }, gather)
	closeStream(c, err, normal)
}

// streamEvents is GET /events/stream: a WebSocket following the event log
// from ?after= (default: from the start), filtered like GET /events.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, _ := strconv.ParseUint(q.Get("after"), 10, 64)
	query := projections.EventQuery{Correlation: q.Get("runid"), Type: q.Get("type"), After: after}
	query.Aggregate, query.ID = splitAggregate(q.Get("aggregate"))
	serveWebSocket(w, r, "server stopping", func(ctx context.Context, send func([]byte) error) error {
		return s.events.Follow(ctx, query, func(e domain.Event) error {
			data, _ := json.Marshal(e)
			return send(data)
		})
	})
}

// closeStream closes a WebSocket with a reason the client can act on.
func closeStream(c *websocket.Conn, err error, normal string) {
	switch {
	case errors.Is(err, errTooSlow):
		_ = c.Close(websocket.StatusPolicyViolation, errTooSlow.Error())
	case err == nil:
		_ = c.Close(websocket.StatusNormalClosure, normal)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		_ = c.Close(websocket.StatusGoingAway, "stream ended")
	default:
		_ = c.Close(websocket.StatusInternalError, "stream failed")
	}
}

// sseLogs serves a run's lines as server-sent events, the way Conveyor CI's
// older endpoints did: each event's data is a stored line as JSON.
func (s *Server) sseLogs(w http.ResponseWriter, r *http.Request, runID, driver string) {
	if runID == "" {
		writeProblem(w, http.StatusUnprocessableEntity, "runid is required")
		return
	}
	if !s.runAppears(r.Context(), runID) {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("run %q not found", runID))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	// The answer starts now, not with the first line: a quiet run has a
	// client waiting on nothing but its headers.
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return
	}
	ctx := r.Context()
	_ = pump(ctx, func(ctx context.Context, send func([]byte) error) error {
		return s.logs.FollowLogs(ctx, runID, 0, func(l projections.LogLine) error {
			if driver != "" && l.Driver != driver {
				return nil
			}
			data, _ := json.Marshal(l)
			return send(data)
		}, s.runEnded(ctx, runID))
	}, func(ctx context.Context, msg []byte) error {
		_ = rc.SetWriteDeadline(time.Now().Add(stallLimit))
		if _, err := fmt.Fprintf(w, "data: %s\n\n", msg); err != nil {
			return err
		}
		return rc.Flush()
	}, 1)
}

func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}
