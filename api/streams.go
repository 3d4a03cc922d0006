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

func (s *Server) registerStreams() {
	open, refused := s.metrics.openStreams(), s.metrics.refusedStreams()
	stream := func(kind string, h http.HandlerFunc) http.HandlerFunc {
		return s.admitted(refused, counted(open, kind, h))
	}
	s.mux.HandleFunc("GET /runs/{id}/logs/stream", stream("logs", s.streamRunLogs))
	s.mux.HandleFunc("GET /events/stream", stream("events", s.streamEvents))
	// The older endpoints of Conveyor CI, as server-sent events.
	sseLogs := stream("sse", func(w http.ResponseWriter, r *http.Request) {
		s.sseLogs(w, r, r.URL.Query().Get("runid"), r.URL.Query().Get("driver"))
	})
	s.mux.HandleFunc("GET /logs", func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			sseLogs(w, r)
			return
		}
		s.logLines(w, r)
	})
	s.mux.HandleFunc("GET /logs/streams/{driver}/{runid}", stream("sse", func(w http.ResponseWriter, r *http.Request) {
		s.sseLogs(w, r, r.PathValue("runid"), r.PathValue("driver"))
	}))
	s.mux.HandleFunc("GET /logs/pipeline/{runid}", stream("sse", func(w http.ResponseWriter, r *http.Request) {
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
	q := logFilter(r, runID)
	q.After, _ = strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	serveWebSocket(w, r, "run ended", func(ctx context.Context, send func([]byte) error) error {
		return s.followLines(ctx, q, send)
	})
}

// logFilter is the driver, step and attempt a log stream's query names,
// and the number of the line at after= (line=) when the client knows it.
func logFilter(r *http.Request, runID string) projections.LogQuery {
	v := r.URL.Query()
	attempt, _ := strconv.Atoi(v.Get("attempt"))
	line, _ := strconv.Atoi(v.Get("line"))
	return projections.LogQuery{RunID: runID, Driver: v.Get("driver"), Step: v.Get("step"), Attempt: attempt, Line: max(line, 0)}
}

// followLines sends the lines q selects after q.After, stored then live,
// each as its JSON and numbered as GET /runs/{id}/logs numbers them, until
// the run has ended and every line is sent.
func (s *Server) followLines(ctx context.Context, q projections.LogQuery, send func([]byte) error) error {
	n := q.Line
	if q.After == 0 || n == 0 {
		var err error
		if n, err = s.logs.LineAt(ctx, q); err != nil {
			return err
		}
	}
	return s.logs.FollowLogs(ctx, q.RunID, q.After, func(l projections.LogLine) error {
		if q.Numbers(l) {
			n++
			l.Line = n
		}
		if !q.Selects(l) {
			return nil
		}
		data, _ := json.Marshal(l)
		return send(data)
	}, s.runEnded(ctx, q.RunID))
}

// serveWebSocket upgrades the request and sends what produce makes, through
// pump, then closes with a reason: normal when produce ended by itself, else
// why the server ended it (see closeStream). While nothing is being written,
// the client is pinged (see keepAlive), so that one that vanished without a
// word is let go within seconds.
func serveWebSocket(w http.ResponseWriter, r *http.Request, normal string, produce func(context.Context, func([]byte) error) error) {
	gather := batched(r)
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsProtocol}})
	if err != nil {
		return
	}
	defer c.CloseNow()
	// The reader of control frames must outlive the stream's context: the
	// connection closes at once when its reader's context ends, and a
	// stream the server ends (a revoked token) still owes its client a
	// close frame with the reason.
	read := c.CloseRead(context.WithoutCancel(r.Context()))
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(errStreamDone)
	defer context.AfterFunc(read, func() { cancel(context.Canceled) })()
	var writing atomic.Bool
	alive := keepAlive(ctx, c, &writing, cancel)
	err = pump(ctx, produce, func(ctx context.Context, msg []byte) error {
		writing.Store(true)
		defer writing.Store(false)
		return c.Write(ctx, websocket.MessageText, msg)
	}, gather)
	cancel(errStreamDone)
	<-alive
	if cause := context.Cause(ctx); errors.Is(cause, errTokenWithdrawn) || errors.Is(cause, errClientVanished) {
		err = cause
	}
	closeStream(c, err, normal)
}

// jsonFollower is an event log that follows events as their stored JSON,
// without decoding them: what GET /events/stream sends when it can.
type jsonFollower interface {
	FollowJSON(ctx context.Context, q projections.EventQuery, fn func(json.RawMessage) error) error
}

// streamEvents is GET /events/stream: a WebSocket following the event log
// from ?after= (default: from the start), filtered like GET /events.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, _ := strconv.ParseUint(q.Get("after"), 10, 64)
	query := projections.EventQuery{Correlation: q.Get("runid"), Type: q.Get("type"), After: after}
	query.Aggregate, query.ID = splitAggregate(q.Get("aggregate"))
	serveWebSocket(w, r, "server stopping", func(ctx context.Context, send func([]byte) error) error {
		if f, ok := s.events.(jsonFollower); ok {
			return f.FollowJSON(ctx, query, func(raw json.RawMessage) error { return send(raw) })
		}
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
	case errors.Is(err, errTokenWithdrawn):
		_ = c.Close(websocket.StatusPolicyViolation, errTokenWithdrawn.Error())
	case errors.Is(err, errClientVanished):
		_ = c.CloseNow() // nobody is there to read a reason
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
	q := logFilter(r, runID)
	q.Driver = driver
	_ = pump(ctx, func(ctx context.Context, send func([]byte) error) error {
		return s.followLines(ctx, q, send)
	}, func(ctx context.Context, msg []byte) error {
		_ = rc.SetWriteDeadline(time.Now().Add(stallLimit))
		if _, err := fmt.Fprintf(w, "data: %s\n\n", msg); err != nil {
			return err
		}
		return rc.Flush()
	}, 1)
	// Server-sent events have no close frame: a comment says why the
	// server ended the stream, for whoever reads the raw answer.
	if cause := context.Cause(ctx); errors.Is(cause, errTokenWithdrawn) {
		_ = rc.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := fmt.Fprintf(w, ": %v\n\n", cause); err == nil {
			_ = rc.Flush()
		}
	}
}

func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}
