package projections

import "time"

// EventQuery selects events of the log for audits: those after sequence
// After, of one aggregate kind (and one aggregate when ID is set), of one
// correlation (Run ID) and type when given, within [Since, Until) when set;
// at most Limit.
type EventQuery struct {
	Aggregate, ID     string
	Correlation, Type string
	After             uint64
	Since, Until      time.Time
	Limit             int
}
