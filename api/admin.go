package api

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/conveyor/conveyor/projections"
)

// Maintenance rebuilds and verifies the read models.
type Maintenance interface {
	Rebuild(ctx context.Context, progress projections.Progress) (projections.RebuildReport, error)
	Verify(ctx context.Context, progress projections.Progress) (projections.VerifyReport, error)
}

// The admin endpoints answer with newline-delimited JSON: progress lines
// {"phase","done","total"} while the work goes on, then one line
// {"result": ...} or {"error": "..."}. docs/api.md describes them.
func (s *Server) registerAdmin() {
	if s.maintenance == nil {
		return
	}
	s.mux.HandleFunc("POST /admin/projections/rebuild", func(w http.ResponseWriter, r *http.Request) {
		s.rebuildMu.Lock() // one rebuild at a time in this server
		defer s.rebuildMu.Unlock()
		streamJob(w, r, func(ctx context.Context, p projections.Progress) (any, error) {
			return s.maintenance.Rebuild(ctx, p)
		})
	})
	s.mux.HandleFunc("POST /admin/projections/verify", func(w http.ResponseWriter, r *http.Request) {
		streamJob(w, r, func(ctx context.Context, p projections.Progress) (any, error) {
			return s.maintenance.Verify(ctx, p)
		})
	})
}

func streamJob(w http.ResponseWriter, r *http.Request, job func(context.Context, projections.Progress) (any, error)) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	rc := http.NewResponseController(w)
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	write := func(v any) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(v)
		_ = rc.Flush()
	}
	result, err := job(r.Context(), func(phase string, done, total uint64) {
		write(map[string]any{"phase": phase, "done": done, "total": total})
	})
	if err != nil {
		write(map[string]any{"error": err.Error()})
		return
	}
	write(map[string]any{"result": result})
}
