package sdk

import (
	"context"
	"net/http"
	"net/url"
)

// Trigger says which webhook deliveries start runs and the resource each
// writes (see docs/triggers.md).
type Trigger struct {
	Name            string          `json:"name"`
	Version         string          `json:"version,omitempty"`
	Source          string          `json:"source"`
	Events          []string        `json:"events,omitempty"`
	Secret          string          `json:"secret,omitempty"`
	Insecure        bool            `json:"insecure,omitempty"`
	SignatureHeader string          `json:"signatureHeader,omitempty"`
	DeliveryHeader  string          `json:"deliveryHeader,omitempty"`
	EventHeader     string          `json:"eventHeader,omitempty"`
	When            string          `json:"when,omitempty"`
	Resource        TriggerResource `json:"resource"`
	Pipeline        string          `json:"pipeline,omitempty"`
	// Schedule, TimeZone and CatchUp are a schedule trigger's (source
	// schedule): a cron expression, its IANA time zone (UTC by default)
	// and latest or none (latest by default).
	Schedule string `json:"schedule,omitempty"`
	TimeZone string `json:"timeZone,omitempty"`
	CatchUp  string `json:"catchUp,omitempty"`
	// Report, when set, reports each run to the git host as a commit
	// status.
	Report *TriggerReport `json:"report,omitempty"`
	// Unchanged is set by SaveTrigger when the trigger was already so.
	Unchanged bool `json:"-"`
}

// TriggerReport is where a trigger's runs are reported: the host's kind,
// its API's base URL, the secret holding the token, and CEL expressions
// for the repository and the commit.
type TriggerReport struct {
	Kind       string `json:"kind"`
	BaseURL    string `json:"baseURL,omitempty"`
	Token      string `json:"token"`
	Repository string `json:"repository"`
	SHA        string `json:"sha"`
}

// TriggerResource is the resource a trigger writes: its type, and CEL
// expressions for its name and each field of its spec.
type TriggerResource struct {
	Type string            `json:"type"`
	Name string            `json:"name"`
	Spec map[string]string `json:"spec,omitempty"`
}

// SaveTrigger creates or replaces the trigger t.Name.
func (c *Client) SaveTrigger(ctx context.Context, t Trigger) (Trigger, error) {
	var out Trigger
	h, err := c.do(ctx, http.MethodPut, "/triggers/"+esc(t.Name), t, &out)
	out.Unchanged = h.Get("Conveyor-Unchanged") == "true"
	return out, err
}

// Trigger reads one trigger.
func (c *Client) Trigger(ctx context.Context, name string) (Trigger, error) {
	var out Trigger
	_, err := c.do(ctx, http.MethodGet, "/triggers/"+esc(name), nil, &out)
	return out, err
}

// Triggers lists triggers.
func (c *Client) Triggers(ctx context.Context, p Page) (List[Trigger], error) {
	var out List[Trigger]
	_, err := c.do(ctx, http.MethodGet, "/triggers"+p.query(url.Values{}), nil, &out)
	return out, err
}

// DeleteTrigger deletes a trigger.
func (c *Client) DeleteTrigger(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/triggers/"+esc(name), nil, nil)
	return err
}
