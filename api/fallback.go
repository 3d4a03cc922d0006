package api

import (
	"net/http"
	"slices"
	"strings"
)

// fallbackPattern serves every request no route serves.
const fallbackPattern = "/"

// methods are those a route may be registered for.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// registerFallback answers what no route serves as problems like every
// other error: 405 with Allow when the path is served for other methods,
// else 404.
func (s *Server) registerFallback() {
	s.mux.HandleFunc(fallbackPattern, func(w http.ResponseWriter, r *http.Request) {
		if allowed := s.allowedMethods(r); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeProblem(w, http.StatusMethodNotAllowed, r.Method+" is not served for "+r.URL.Path+"; it is served for "+strings.Join(allowed, ", "))
			return
		}
		writeProblem(w, http.StatusNotFound, "no such path: "+r.URL.Path)
	})
}

// allowedMethods lists the methods a route serves r's path for.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allowed []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != fallbackPattern && !slices.Contains(allowed, m) {
			allowed = append(allowed, m)
		}
	}
	return allowed
}
