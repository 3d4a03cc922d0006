package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// healthState is what the last round of readiness checks found: empty when
// every dependency answered, else what failed.
type healthState struct {
	problem atomic.Pointer[string]
}

// Watch runs the readiness checks every interval until ctx ends. While a
// dependency does not answer, requests that need it are answered at once
// with 503 and Retry-After instead of waiting for a timeout, and nothing is
// written.
func (s *Server) Watch(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.checkOnce(ctx, interval)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Server) checkOnce(ctx context.Context, timeout time.Duration) {
	cctx, cancel := context.WithTimeout(ctx, max(timeout, time.Second))
	defer cancel()
	var failed []string
	for name, check := range s.checks {
		if err := check(cctx); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", name, err))
		}
	}
	if len(failed) == 0 || ctx.Err() != nil {
		s.health.problem.Store(nil)
		return
	}
	p := strings.Join(failed, "; ")
	s.health.problem.Store(&p)
}

// exempt are the paths served whatever the dependencies do.
func exempt(path string) bool {
	switch path {
	case "/health", "/ready", "/metrics", "/openapi.json", "/openapi.yaml", "/docs":
		return true
	}
	return strings.HasPrefix(path, "/schemas")
}

// failFast answers 503 while the last checks found a dependency away.
func (s *Server) failFast(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := s.health.problem.Load(); p != nil && !exempt(r.URL.Path) {
			w.Header().Set("Retry-After", retryAfter)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]any{"title": "Service Unavailable", "status": http.StatusServiceUnavailable,
				"detail": "a dependency does not answer (" + *p + "); nothing was done; retry later"})
			return
		}
		next.ServeHTTP(w, r)
	})
}
