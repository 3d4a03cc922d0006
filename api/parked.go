package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"
)

type parkedInput struct {
	After    uint64 `query:"after" doc:"only entries after this id"`
	Continue string `query:"continue" doc:"the previous page's continue field; the same as after, which it overrides"`
	Limit    int    `query:"limit" minimum:"0" maximum:"1000" doc:"entries per page (default 100)"`
}

// after is where the page starts: continue when it is given, else after.
func (in parkedInput) after() (uint64, error) {
	if in.Continue == "" {
		return in.After, nil
	}
	after, err := strconv.ParseUint(in.Continue, 10, 64)
	if err != nil {
		return 0, huma.Error422UnprocessableEntity("invalid continue token",
			&huma.ErrorDetail{Location: "query.continue", Message: "must be the continue field of a page of parked events", Value: in.Continue})
	}
	return after, nil
}

type parkedPath struct {
	ID uint64 `path:"id" doc:"the entry's id, as listed"`
}

// registerParked serves the events consumers parked, when there is a
// parking place: operators list them, fix their cause, and dismiss them.
func (s *Server) registerParked() {
	if s.parked == nil {
		return
	}
	const tag = "admin"
	huma.Register(s.api, s.op(http.MethodGet, "/admin/parked", "list-parked-events",
		"Events a consumer of the log could not handle and set aside, in the order they were parked",
		"Events a consumer of the log could not handle and set aside; each waits for an operator to fix its cause and dismiss it. A page at a time (`continue`).", tag),
		func(ctx context.Context, in *parkedInput) (*listOutput[projections.ParkedEvent], error) {
			after, err := in.after()
			if err != nil {
				return nil, err
			}
			items, next, err := s.parked.List(ctx, after, in.Limit)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &listOutput[projections.ParkedEvent]{Body: list[projections.ParkedEvent]{Items: items}}
			if out.Body.Items == nil {
				out.Body.Items = []projections.ParkedEvent{}
			}
			if next != 0 {
				out.Body.Continue = strconv.FormatUint(next, 10)
			}
			return out, nil
		})

	del := s.op(http.MethodDelete, "/admin/parked/{id}", "remove-parked-event",
		"Dismiss a parked event, once its cause is dealt with (404 if it is not parked)",
		"Dismisses a parked event once its cause is dealt with; 404 if it is not parked.", tag)
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, func(ctx context.Context, in *parkedPath) (*struct{}, error) {
		if err := s.parked.Remove(ctx, in.ID); err != nil {
			return nil, s.problem(ctx, err)
		}
		return nil, nil
	})

	s.metrics.countParked(s.parked)
}

// parkedCheck is the readiness entry of the parked events: ok, or how many
// wait for an operator. degraded is true unless it is ok.
func (s *Server) parkedCheck(ctx context.Context) (entry string, degraded bool) {
	n, err := s.parked.Count(ctx)
	switch {
	case err != nil:
		return "cannot count the parked events: " + err.Error(), true
	case n == 0:
		return "ok", false
	case n == 1:
		return "1 event parked; see GET /admin/parked", true
	}
	return fmt.Sprintf("%d events parked; see GET /admin/parked", n), true
}

// countParked adds the gauge conveyor_parked_events, counted when scraped.
// While the count cannot be read, the gauge keeps the last count read.
func (m *metrics) countParked(p ParkedLog) {
	var last atomic.Uint64
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "conveyor_parked_events", Help: "Events consumers of the log set aside and an operator has not yet removed.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if n, err := p.Count(ctx); err == nil {
			last.Store(n)
		}
		return float64(last.Load())
	}))
}
