package sdk

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// TriggerTry is a delivery to try on a trigger: its payload, its headers as
// the git host sends them, and its event (absent: the one its headers name).
type TriggerTry struct {
	Event   string            `json:"event,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Payload json.RawMessage   `json:"payload"`
}

// TriggerTried is what a delivery like the one tried would do: Outcome is
// "would fire" (Resource is what it would write, Report where its run
// would be reported: its Repository and SHA are the values the
// trigger's expressions gave), "ignored" (Reason says why) or "ping".
type TriggerTried struct {
	Outcome  string         `json:"outcome"`
	Reason   string         `json:"reason,omitempty"`
	Event    string         `json:"event,omitempty"`
	Resource *Resource      `json:"resource,omitempty"`
	Report   *TriggerReport `json:"report,omitempty"`
}

// TryTrigger evaluates the trigger name on a delivery and says what it
// would do; nothing is written.
func (c *Client) TryTrigger(ctx context.Context, name string, d TriggerTry) (TriggerTried, error) {
	var out TriggerTried
	_, err := c.do(ctx, http.MethodPost, "/triggers/"+esc(name)+"/test", d, &out)
	return out, err
}

// TriggerDelivery is one delivery to a trigger: when, its event and id, the
// answer's Status and Reason, and, for one that wrote its resource (201),
// the commit and ref it names, the resource it wrote (TYPE/NAME) and the
// run that started. Kept is "log" for those, "memory" for a delivery that
// wrote nothing, which only the replica that answered remembers.
type TriggerDelivery struct {
	Trigger  string    `json:"trigger"`
	Event    string    `json:"event"`
	Delivery string    `json:"delivery"`
	Commit   string    `json:"commit,omitempty"`
	Ref      string    `json:"ref,omitempty"`
	Resource string    `json:"resource"`
	RunID    string    `json:"runid,omitempty"`
	Time     time.Time `json:"time"`
	Status   int       `json:"status"`
	Reason   string    `json:"reason,omitempty"`
	Kept     string    `json:"kept"`
}

// TriggerDeliveries are the latest deliveries to the trigger name, newest
// first: the 50 latest that wrote their resource, and the 50 latest that
// wrote nothing the replica that answers remembers.
func (c *Client) TriggerDeliveries(ctx context.Context, name string) ([]TriggerDelivery, error) {
	var out struct {
		Items []TriggerDelivery `json:"items"`
	}
	_, err := c.do(ctx, http.MethodGet, "/triggers/"+esc(name)+"/deliveries", nil, &out)
	return out.Items, err
}
