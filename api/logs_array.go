package api

import (
	"encoding/json"
	"net/http"

	"github.com/conveyor/conveyor/projections"
)

// logLines is GET /logs?runid=&driver=&pipeline= as the original Conveyor
// CI's clients read it: every stored line of the run, as one JSON array.
// A client that asks for text/event-stream gets the lines followed instead
// (sseLogs).
func (s *Server) logLines(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	runID, pipeline := q.Get("runid"), q.Get("pipeline")
	if runID == "" {
		writeProblem(w, http.StatusUnprocessableEntity, "runid is required")
		return
	}
	lines := []projections.LogLine{}
	for after := uint64(0); ; {
		page, err := s.logs.RunLogs(r.Context(), projections.LogQuery{RunID: runID, Driver: q.Get("driver"), After: after, Limit: projections.MaxLimit})
		if err != nil {
			writeProblem(w, http.StatusServiceUnavailable, "reading the logs failed: "+err.Error())
			return
		}
		for _, l := range page {
			if pipeline == "" || l.Pipeline == pipeline {
				lines = append(lines, l)
			}
		}
		if len(page) < projections.MaxLimit {
			break
		}
		after = page[len(page)-1].Sequence
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(lines)
}
