package sdk

import "encoding/json"

// Wire names of the protocol (docs/protocol.md).
const (
	messagesStream = "messages"
	resultSubject  = "pipelines.driver.result"
)

// Subjects in a driver's own name (docs/security.md): with NATS credentials
// required, only driver NAME may publish on them or read its inbox.
func driverResultSubject(driver string) string { return resultSubject + "." + driver }
func consumerRequestSubject(driver string) string {
	return "conveyor.drivers." + driver + ".consumer"
}
func driverInbox(driver string) string { return "_INBOX." + driver }

// consumerRequest asks the server for the driver's durable consumer;
// consumerReply is its answer.
type consumerRequest struct {
	Resources     []string `json:"resources"`
	AckWaitMs     int64    `json:"ackWaitMs"`
	MaxAckPending int      `json:"maxAckPending"`
}

type consumerReply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

// workMessage is the body of a message to drivers. Payload is the resource
// as a JSON string; Step and Attempt are extensions old servers leave out.
type workMessage struct {
	Event   string `json:"event"`
	Payload string `json:"payload"`
	ID      string `json:"id"`
	RunID   string `json:"run_id"`
	Step    string `json:"step,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	// Secrets names the secrets the step is granted (an extension).
	Secrets []string `json:"secrets,omitempty"`
	// With is the step's parameters, evaluated by the server (an extension).
	With json.RawMessage `json:"with,omitempty"`
}

// resultMessage is a driver's result; Step is an extension.
type resultMessage struct {
	Event        string     `json:"event"`
	RunID        string     `json:"run_id"`
	Resource     Resource   `json:"resource"`
	DriverResult wireResult `json:"driverresult"`
	Step         string     `json:"step,omitempty"`
}

type wireResult struct {
	Success bool           `json:"success"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data"`
	Driver  string         `json:"driver"`
}

// logLine is one stored log line; Labels, Time and Step are extensions.
type logLine struct {
	RunID     string            `json:"runid"`
	Driver    string            `json:"driver"`
	Pipeline  string            `json:"pipeline"`
	Timestamp string            `json:"timestamp"`
	Message   string            `json:"message"`
	Labels    map[string]string `json:"labels"`
	Time      string            `json:"time"`
	Step      string            `json:"step,omitempty"`
	Attempt   int               `json:"attempt,omitempty"`
}

func decodeWork(data []byte) (workMessage, Resource, error) {
	var w workMessage
	if err := json.Unmarshal(data, &w); err != nil {
		return w, Resource{}, err
	}
	var r Resource
	if err := json.Unmarshal([]byte(w.Payload), &r); err != nil {
		return w, r, err
	}
	return w, r, nil
}
