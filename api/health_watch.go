package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// healthState is what the last round of readiness checks found: nil when
// every dependency answered, else what failed, by dependency.
type healthState struct {
	problem atomic.Pointer[map[string]string]
}

// Watch runs the readiness checks every interval until ctx ends. While a
// dependency does not answer, requests that need it are answered at once
// with 503 and Retry-After instead of waiting for a timeout, and nothing is
// written. At the same pace it ends the streams whose token was revoked
// (through any replica) or no longer allows them.
func (s *Server) Watch(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.sweepStreams()
		s.checkOnce(ctx, interval)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Server) checkOnce(ctx context.Context, timeout time.Duration) {
	failed := map[string]string{}
	for name, err := range s.runChecks(ctx, max(timeout, time.Second)) {
		if err != nil {
			failed[name] = fmt.Sprintf("%s: %v", name, err)
		}
	}
	if len(failed) == 0 || ctx.Err() != nil {
		s.health.problem.Store(nil)
		return
	}
	s.health.problem.Store(&failed)
}

// blocking is what keeps r from being served among the failed
// dependencies: the log (NATS) serves every request but the exempt ones;
// the read models (etcd) serve reads of them and the check before a
// definition is deleted. A write needs only the log, so it is taken while
// etcd is away and becomes visible when it is back.
func blocking(r *http.Request, failed map[string]string) string {
	if exempt(r.URL.Path) {
		return ""
	}
	var out []string
	if p, ok := failed["nats"]; ok {
		out = append(out, p)
	}
	if p, ok := failed["etcd"]; ok && needsReadModels(r) {
		out = append(out, p)
	}
	for name, p := range failed {
		if name != "nats" && name != "etcd" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

func needsReadModels(r *http.Request) bool { return usesReadModels(r.Method, r.URL.Path) }

// usesReadModels is true of the requests that read the read models: a GET
// of them, or the check before a definition is deleted. path may be a
// route's pattern.
func usesReadModels(method, path string) bool {
	switch method {
	case http.MethodGet, http.MethodHead:
		return readsReadModel(path)
	case http.MethodDelete:
		return strings.HasPrefix(path, "/resource-definitions/")
	}
	return false
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
		failed := s.health.problem.Load()
		if failed == nil {
			next.ServeHTTP(w, r)
			return
		}
		if p := blocking(r, *failed); p != "" {
			w.Header().Set("Retry-After", retryAfter)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]any{"title": "Service Unavailable", "status": http.StatusServiceUnavailable,
				"detail": "a dependency does not answer (" + p + "); nothing was done; retry later"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// runChecks runs every readiness check at once, each with its own timeout,
// so that a dependency that hangs does not use up the time of the others,
// and returns each one's outcome (nil: it answered).
func (s *Server) runChecks(ctx context.Context, timeout time.Duration) map[string]error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := make(map[string]error, len(s.checks))
	for name, check := range s.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			err := check(cctx)
			mu.Lock()
			out[name] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
