package api

import (
	"context"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

type healthOutput struct {
	Body struct {
		Status string `json:"status" example:"healthy"`
		Time   int64  `json:"time" doc:"server time, unix seconds"`
	}
}

// readiness is the body of GET /ready, with either status.
type readiness struct {
	Status string            `json:"status" enum:"ready,degraded,unavailable" doc:"ready; degraded: serving, but something needs an operator (200); unavailable: a dependency failed (503)"`
	Checks map[string]string `json:"checks" doc:"each dependency: ok, or what failed; parked (when the server keeps parked events): ok, or how many are parked; projector: ok, or how many log positions the read models are behind" example:"{\"nats\":\"ok\",\"etcd\":\"ok\",\"projector\":\"ok\"}"`
}

type readyOutput struct {
	Status int
	Body   readiness
}

func (s *Server) registerHealth() {
	huma.Register(s.api, s.op(http.MethodGet, "/health", "health", "Liveness",
		"Liveness: 200 while the process serves HTTP, whatever its dependencies do.", "health"),
		func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
			out := &healthOutput{}
			out.Body.Status, out.Body.Time = "healthy", time.Now().Unix()
			return out, nil
		})
	ready := s.op(http.MethodGet, "/ready", "ready", "Readiness: NATS and etcd reachable (503 if not); degraded while events are parked",
		"Readiness: each dependency (NATS, etcd), the projector's lag and the parked events. 200 when ready, or degraded (serving, but something needs an operator); 503 when a dependency failed.", "health")
	ready.Responses = map[string]*huma.Response{"503": {Description: "A dependency failed: the checks say which.",
		Content: map[string]*huma.MediaType{"application/json": {
			Schema: s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeOf(readiness{}), true, "Readiness")}}}}
	huma.Register(s.api, ready,
		func(ctx context.Context, _ *struct{}) (*readyOutput, error) {
			out := &readyOutput{Status: http.StatusOK}
			out.Body.Status, out.Body.Checks = "ready", map[string]string{}
			for name, err := range s.runChecks(ctx, 2*time.Second) {
				out.Body.Checks[name] = "ok"
				if err != nil {
					out.Status, out.Body.Status = http.StatusServiceUnavailable, "unavailable"
					out.Body.Checks[name] = err.Error()
				}
			}
			if s.logEnd != nil {
				out.Body.Checks["projector"] = s.lagCheck(ctx)
			}
			if s.parked != nil {
				entry, degraded := s.parkedCheck(ctx)
				out.Body.Checks["parked"] = entry
				if degraded && out.Status == http.StatusOK {
					out.Body.Status = "degraded"
				}
			}
			return out, nil
		})
	s.mux.Handle("GET /metrics", s.metrics.handler())
}
