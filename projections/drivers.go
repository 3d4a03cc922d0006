package projections

import "time"

// DriverView is a driver as the server sees it: the instances that
// announce themselves (drivers built on the SDK), and its consumer on
// `messages` (every driver has one, those of the original runtime too).
// It is not from the event log: presence is what is connected now.
type DriverView struct {
	Name      string           `json:"name"`
	Resources []string         `json:"resources"`
	Connected bool             `json:"connected" doc:"an instance announced itself within the last three intervals, or the driver's consumer has a client waiting for work"`
	Instances []DriverInstance `json:"instances"`
	// Pending and InFlight count the driver's work on `messages`: not yet
	// delivered, and delivered but not acknowledged.
	Pending  uint64 `json:"pending"`
	InFlight uint64 `json:"inFlight"`
}

// DriverInstance is one running process of a driver.
type DriverInstance struct {
	ID       string    `json:"id"`
	Host     string    `json:"host,omitempty"`
	Labels   []string  `json:"labels,omitempty" doc:"the process's labels: it takes the steps whose runsOn names only labels of these, and those without runsOn"`
	Version  string    `json:"version,omitempty"`
	Since    time.Time `json:"since"`
	LastSeen time.Time `json:"lastSeen"`
}
