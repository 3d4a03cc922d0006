package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// openStreams is the gauge conveyor_open_streams: WebSocket and SSE streams
// being served, by kind ("logs", "events", "sse").
func (m *metrics) openStreams() *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "conveyor_open_streams", Help: "Log and event streams being served, by kind.",
	}, []string{"kind"})
	m.registry.MustRegister(g)
	return g
}

// refusedStreams is the counter conveyor_streams_refused_total: streams
// refused for a limit, by the limit ("token", "server"), so that an
// operator sees clients hitting --max-streams-per-token or --max-streams.
func (m *metrics) refusedStreams() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "conveyor_streams_refused_total", Help: "Log and event streams refused for a limit, by limit (token, server).",
	}, []string{"limit"})
	m.registry.MustRegister(c)
	return c
}

// counted serves a stream with h and counts it in the gauge while it lasts.
func counted(g *prometheus.GaugeVec, kind string, h http.HandlerFunc) http.HandlerFunc {
	open := g.WithLabelValues(kind)
	return func(w http.ResponseWriter, r *http.Request) {
		open.Inc()
		defer open.Dec()
		h(w, r)
	}
}
