package protocol

import (
	"encoding/json"
	"time"
)

// The messages of the protocol, each defined once for the server and the
// Go SDK; the JSON Schemas beside them describe the same for other
// languages. Fields marked as extensions are left out by (or unknown to)
// the original Conveyor CI runtime.

// ConsumerRequest asks the server for the driver's durable consumer: the
// resource types it listens to and the consumer's settings. Labels (an
// extension) are the process's: the server makes, beside the driver's
// consumer, one for each non-empty subset of them (ConsumerName).
type ConsumerRequest struct {
	Resources     []string `json:"resources"`
	Labels        []string `json:"labels,omitempty"`
	AckWaitMs     int64    `json:"ackWaitMs,omitempty"`     // default 30000; 1000 to 3600000
	MaxAckPending int      `json:"maxAckPending,omitempty"` // default 1000; 1 to 100000
}

// ConsumerReply answers a ConsumerRequest: ok, or why not.
type ConsumerReply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Work is a message to drivers. Payload is the resource as a JSON string.
type Work struct {
	Event   string `json:"event"`
	Payload string `json:"payload"`
	ID      string `json:"id"`
	RunID   string `json:"run_id"`
	// Step and Attempt name a pipeline step's attempt (extensions).
	Step    string `json:"step,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	// Secrets names the secrets the step is granted (an extension).
	Secrets []string `json:"secrets,omitempty"`
	// With is the step's parameters, evaluated by the server (an extension).
	With json.RawMessage `json:"with,omitempty"`
}

// Result is a driver's result. DriverResult is required; Step is an
// extension.
type Result struct {
	Event        string          `json:"event"`
	RunID        string          `json:"run_id"`
	Resource     json.RawMessage `json:"resource,omitempty"`
	DriverResult *DriverResult   `json:"driverresult"`
	Step         string          `json:"step,omitempty"`
}

// DriverResult is what a driver says of its work.
type DriverResult struct {
	Success bool            `json:"success"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	Driver  string          `json:"driver"`
}

// LogLine is one line of a run's log. Time, Labels, Step and Attempt are
// extensions.
type LogLine struct {
	RunID     string            `json:"runid"`
	Driver    string            `json:"driver"`
	Pipeline  string            `json:"pipeline"`
	Timestamp Timestamp         `json:"timestamp"`
	Message   string            `json:"message"`
	Labels    map[string]string `json:"labels"`
	Time      string            `json:"time,omitempty"`
	Step      string            `json:"step,omitempty"`
	Attempt   int               `json:"attempt,omitempty"`
}

// Timestamp is a log line's Unix time in seconds, as text. A number is
// read too: other runtimes send one.
type Timestamp string

// UnmarshalJSON reads a string or a number.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		err := json.Unmarshal(data, &s)
		*t = Timestamp(s)
		return err
	}
	if string(data) == "null" {
		*t = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return err
	}
	*t = Timestamp(n.String())
	return nil
}

// Heartbeat says a driver still works on a step's attempt; Done says it
// has finished with it, so its silence from then on means nothing.
type Heartbeat struct {
	RunID   string `json:"run_id"`
	Step    string `json:"step"`
	Attempt int    `json:"attempt"`
	Driver  string `json:"driver,omitempty"`
	Done    bool   `json:"done,omitempty"`
}

// Stop tells a driver to stop work it was given, and why.
type Stop struct {
	RunID   string `json:"run_id"`
	Step    string `json:"step"`
	Attempt int    `json:"attempt"`
	Reason  string `json:"reason"`
}

// SecretsRequest asks for the secrets a step's attempt is granted;
// SecretsReply answers with their values, or why not.
type SecretsRequest struct {
	RunID   string `json:"run_id"`
	Step    string `json:"step"`
	Attempt int    `json:"attempt"`
}

type SecretsReply struct {
	Secrets map[string]string `json:"secrets,omitempty"`
	Error   string            `json:"error,omitempty"`
}

// Presence is what a driver's instance says of itself, every few seconds,
// and once more with Leaving when it stops.
type Presence struct {
	Driver    string    `json:"driver"`
	Instance  string    `json:"instance"`
	Resources []string  `json:"resources"`
	Labels    []string  `json:"labels,omitempty"`
	Version   string    `json:"version,omitempty"`
	Host      string    `json:"host,omitempty"`
	Since     time.Time `json:"since"`
	Leaving   bool      `json:"leaving,omitempty"`
}
