package api

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// LogEnd tells the log position of the last event stored.
type LogEnd func(ctx context.Context) (uint64, error)

// projectorLag is how many log positions the read models are behind the
// log: what a read that must see every write may have to wait for.
func (s *Server) projectorLag(ctx context.Context) (uint64, error) {
	end, err := s.logEnd(ctx)
	if err != nil {
		return 0, err
	}
	if at := s.position.Current(); at < end {
		return end - at, nil
	}
	return 0, nil
}

// lagCheck is the projector's entry in /ready: it never makes the server
// unavailable, it says how far behind the read models are.
func (s *Server) lagCheck(ctx context.Context) string {
	lag, err := s.projectorLag(ctx)
	switch {
	case err != nil:
		return "cannot read the log's end: " + err.Error()
	case lag == 0:
		return "ok"
	}
	return fmt.Sprintf("%d log positions behind", lag)
}

// measureLag adds the gauge conveyor_projector_lag_events, read when
// scraped; while the log's end cannot be read it keeps the last value.
func (m *metrics) measureLag(s *Server) {
	var last atomic.Uint64
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "conveyor_projector_lag_events", Help: "Log positions the read models are behind the event log.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if lag, err := s.projectorLag(ctx); err == nil {
			last.Store(lag)
		}
		return float64(last.Load())
	}))
}
