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
	Attempt int `json:"attempt,omitempty"`
	// Line is the line's number in the answer, from 1: its position in the
	// run's log, or in the step's (and attempt's) log when the reader asked
	// for one step (LogQuery.Numbers).
	Line      int               `json:"line,omitempty"`
	Timestamp string            `json:"timestamp"`
	Time      time.Time         `json:"time"`
	Message   string            `json:"message"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// LogQuery selects stored lines of one run: of one driver, step and
// attempt when given, after the line with sequence After, at most Limit.
// Line, when not 0, is the number of the line at After (the Line of the
// last line of the previous page), which spares counting the lines before
// it.
type LogQuery struct {
	RunID, Driver, Step string
	Attempt             int
	After               uint64
	Limit               int
	Line                int
}

// Numbers says whether l counts in the numbering of q's lines: it is of
// q's step and attempt, when q names them. A line without a step counts
// only when q names none.
func (q LogQuery) Numbers(l LogLine) bool {
	return (q.Step == "" || l.Step == q.Step) && (q.Attempt == 0 || l.Attempt == q.Attempt)
}

// Selects says whether l is one of q's lines: numbered, and of q's driver
// when q names one.
func (q LogQuery) Selects(l LogLine) bool {
	return q.Numbers(l) && (q.Driver == "" || l.Driver == q.Driver)
}
