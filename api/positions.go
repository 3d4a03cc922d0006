package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/conveyor/conveyor/commands"
)

// HeaderPosition names a log position. A write answers with the position of
// the events it stored; a read that sends it (to this server or another
// replica) waits until the read models have reached it.
const HeaderPosition = "Conveyor-Position"

// DefaultReadWait bounds how long a read waits for the read models to reach
// the position it needs before it is answered 503 with Retry-After.
const DefaultReadWait = 5 * time.Second

// readYourWrites gives every write a Conveyor-Position answer header, and
// makes every request that reads the read models (a GET of them, or the
// check before a definition is deleted) wait until they reached both the
// position the request names and the last write this server answered: a
// client that writes and then reads sees its write. Without a Position in
// the dependencies, reads do not wait.
func (s *Server) readYourWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.position != nil && needsReadModels(r) && !s.waitForPosition(w, r) {
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			next.ServeHTTP(w, r)
		default:
			ctx, writes := commands.RecordWrites(r.Context())
			next.ServeHTTP(&positionWriter{ResponseWriter: w, writes: writes, noted: &s.writes}, r.WithContext(ctx))
		}
	})
}

// readsReadModel reports whether a GET of path is answered from the read
// models (and not from the log or a stream).
func readsReadModel(path string) bool {
	for _, p := range []string{"/resource-definitions", "/resources", "/pipelines", "/runs", "/triggers"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return !strings.Contains(path, "/logs") && !strings.HasSuffix(path, "/trace")
		}
	}
	return false
}

// waitForPosition waits, bounded, for the position r needs; it answers the
// request itself (and returns false) when the header is malformed or the
// wait runs out.
func (s *Server) waitForPosition(w http.ResponseWriter, r *http.Request) bool {
	want := s.writes.Last()
	if h := r.Header.Get(HeaderPosition); h != "" {
		n, err := strconv.ParseUint(strings.TrimSpace(h), 10, 64)
		if err != nil {
			writeProblem(w, http.StatusBadRequest, fmt.Sprintf("header %s must be a log position (a non-negative integer), not %q", HeaderPosition, h))
			return false
		}
		want = max(want, n)
	}
	if want == 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadWait)
	defer cancel()
	if err := s.position.WaitFor(ctx, want); err != nil {
		w.Header().Set("Retry-After", "1")
		writeProblem(w, http.StatusServiceUnavailable, fmt.Sprintf(
			"the read models have not reached log position %d yet (they are at %d); try again", want, s.position.Current()))
		return false
	}
	return true
}

// positionWriter adds the position of the request's writes to the answer's
// headers, and notes it as this server's last write before the answer
// leaves.
type positionWriter struct {
	http.ResponseWriter
	writes  *commands.Writes
	noted   *commands.Writes // the server's: the last write it answered
	started bool
}

func (p *positionWriter) WriteHeader(code int) {
	if !p.started {
		p.started = true
		if seq := p.writes.Last(); seq > 0 {
			p.noted.Note(seq)
			p.Header().Set(HeaderPosition, strconv.FormatUint(seq, 10))
		}
	}
	p.ResponseWriter.WriteHeader(code)
}

func (p *positionWriter) Write(b []byte) (int, error) {
	if !p.started {
		p.WriteHeader(http.StatusOK)
	}
	return p.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (p *positionWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
