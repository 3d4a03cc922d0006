package sdk

import (
	"context"
	"net/http"
)

// ApproveStep approves a run's waiting approval step, with an optional
// comment; the steps that need it run.
func (c *Client) ApproveStep(ctx context.Context, runID, step, comment string) (Run, error) {
	return c.decideStep(ctx, runID, step, "approve", comment)
}

// RejectStep rejects a run's waiting approval step, with an optional
// comment; the steps that need it are skipped and the run fails.
func (c *Client) RejectStep(ctx context.Context, runID, step, comment string) (Run, error) {
	return c.decideStep(ctx, runID, step, "reject", comment)
}

func (c *Client) decideStep(ctx context.Context, runID, step, verb, comment string) (Run, error) {
	var out Run
	body := map[string]string{}
	if comment != "" {
		body["comment"] = comment
	}
	_, err := c.do(ctx, http.MethodPost, "/runs/"+esc(runID)+"/steps/"+esc(step)+"/"+verb, body, &out)
	return out, err
}
