package api

import "github.com/prometheus/client_golang/prometheus"

// StatusReportGivenUp returns what counts a run's commit status that was
// not reported to its git host: refused, or the host away through every
// attempt.
func (s *Server) StatusReportGivenUp() func() { return s.metrics.statusGivenUp.Inc }

func newStatusGivenUp(r *prometheus.Registry) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "conveyor_status_reports_given_up_total",
		Help: "Runs' commit statuses not reported to their git host: refused (a 4xx), or the host away through every attempt.",
	})
	r.MustRegister(c)
	return c
}
