package api

import "github.com/prometheus/client_golang/prometheus"

// Redelivered returns the function a consumer of this server calls for
// each message it is given again; it counts them in
// conveyor_consumer_redeliveries_total by consumer.
func (s *Server) Redelivered(consumer string) func() {
	c := s.metrics.redeliveries.WithLabelValues(consumer)
	return c.Inc
}

func newRedeliveries(r *prometheus.Registry) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "conveyor_consumer_redeliveries_total",
		Help: "Messages a consumer of this server was given again, after a failure, a crash or an ack wait, by consumer.",
	}, []string{"consumer"})
	r.MustRegister(c)
	return c
}
