package projections

import "time"

// LogLine is one stored line of a run's log, as drivers publish it on
// logs.{run_id}. Sequence orders lines across drivers and is the cursor of
// the next page.
type LogLine struct {
	Sequence uint64 `json:"sequence"`
	RunID    string `json:"runid"`
	Driver   string `json:"driver"`
	Pipeline string `json:"pipeline,omitempty"`
	Step     string `json:"step,omitempty"`
	// Attempt is the attempt of the step that wrote the line (1 for the
	// first try), when the driver says so.
	Attempt   int               `json:"attempt,omitempty"`
	Timestamp string            `json:"timestamp"`
	Time      time.Time         `json:"time"`
	Message   string            `json:"message"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// LogQuery selects stored lines of one run: of one driver and step when
// given, after the line with sequence After, at most Limit.
type LogQuery struct {
	RunID, Driver, Step string
	After               uint64
	Limit               int
}
