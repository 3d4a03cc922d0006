package api

import (
	"net/http"
	"strings"

	"github.com/conveyor/conveyor/domain"
	"github.com/danielgtaylor/huma/v2"
)

// access is what a route needs: nothing (public) or a role.
type access struct {
	public bool
	role   domain.Role
}

// publicPaths are served to anyone: liveness, readiness, the API's own
// description and the UI's files hold no data (the UI's pages read the API
// with the token the user signs in with).
var publicPaths = []string{"/health", "/ready", "/openapi", "/docs", "/schemas/", "/{$}", "/ui/"}

// accessOf is the one rule of who may use a route, given its method and
// path pattern as registered ("/runs/{id}/cancel"). Reads need viewer,
// except the maintenance endpoints; resources and runs are written by
// operators, and so are broadcasts to drivers; POST /logs is a driver's
// (an admin passes too, an operator does not: writing a run's logs is the
// work of its drivers); POST /hooks/{trigger} is public, as the delivery's
// signature authenticates it; everything else that changes state (definitions, pipelines,
// tokens, maintenance) needs admin. A route the rule does not name needs
// admin: unknown means closed.
func accessOf(method, path string) access {
	read := method == http.MethodGet || method == http.MethodHead
	for _, p := range publicPaths {
		if read && (path == p || strings.HasPrefix(path, p)) {
			return access{public: true}
		}
	}
	switch {
	case method == http.MethodPost && path == hookPath:
		// A webhook delivery: its signature authenticates it.
		return access{public: true}
	case strings.HasPrefix(path, "/admin"), strings.HasPrefix(path, "/tokens"), strings.HasPrefix(path, "/secrets"):
		return access{role: domain.RoleAdmin}
	case read:
		return access{role: domain.RoleViewer}
	case strings.HasPrefix(path, "/resources"), strings.HasPrefix(path, "/runs"), path == "/drivers/broadcast-message":
		return access{role: domain.RoleOperator}
	case path == "/logs":
		return access{role: domain.RoleDriver}
	}
	return access{role: domain.RoleAdmin}
}

// hookPath is the route of webhook deliveries, the one write that needs no
// token (see registerHooks).
const hookPath = "/hooks/{trigger}"

// routeAccess is what the route serving r needs. A request no route serves
// needs only a token, so that it gets its 404 or 405 once authenticated.
func (s *Server) routeAccess(r *http.Request) access {
	_, pattern := s.mux.Handler(r)
	if pattern == "" || pattern == fallbackPattern {
		return access{role: domain.RoleViewer}
	}
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		method, path = r.Method, pattern
	}
	return accessOf(method, path)
}

// securityScheme names the bearer scheme in the OpenAPI document.
const securityScheme = "bearer"

// declareAccess writes into op the security it needs and, as the extension
// x-conveyor-role and in its description, the role.
func declareAccess(op *huma.Operation, a access) {
	if a.public {
		op.Security = []map[string][]string{{}}
		op.Extensions = map[string]any{"x-conveyor-role": "public"}
		return
	}
	op.Security = []map[string][]string{{securityScheme: {}}}
	op.Extensions = map[string]any{"x-conveyor-role": string(a.role)}
	op.Description = strings.TrimSpace(op.Description + "\n\nNeeds a token of role `" + string(a.role) + "` or above.")
}
