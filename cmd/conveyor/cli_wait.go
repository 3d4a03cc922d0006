package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/sdk"
)

// waitPoll is how long `apply --wait` waits before asking for a run's
// events again when none came.
const waitPoll = 200 * time.Millisecond

// runEnd is how a run ended, as its last event says.
type runEnd struct{ status, message string }

// followRun prints each event of run id as a line, from the log (the run's
// own events, in order: no dispatch, failed attempt or retry is missed
// however quickly it passed), until the run ends; then it returns how, from
// the event that ended it (the read models may not have caught up yet).
func (c *cli) followRun(ctx context.Context, id string) (runEnd, error) {
	var after uint64
	var end *runEnd
	for {
		page, err := c.client.Events(ctx, sdk.EventFilter{Aggregate: "run/" + id, After: after})
		if err != nil {
			return runEnd{}, err
		}
		for _, e := range page.Items {
			if line := runEventLine(e); line != "" {
				fmt.Fprintf(c.stdout, "run %s: %s\n", short(id), line)
			}
			switch e.Type {
			case domain.TypeRunSucceeded, domain.TypeRunFailed, domain.TypeRunCancelled:
				end = endOf(e)
			case domain.TypeRunRetried:
				end = nil // a retry of the run goes on in the same events
			}
			after = e.Sequence
		}
		if page.Next != 0 {
			after = page.Next
			continue
		}
		if end != nil {
			return *end, nil
		}
		select {
		case <-ctx.Done():
			return runEnd{}, ctx.Err()
		case <-time.After(waitPoll):
		}
	}
}

// endOf is the end a RunSucceeded, RunFailed or RunCancelled event records.
func endOf(e sdk.Event) *runEnd {
	var why struct {
		Message string `json:"message"`
		Reason  string `json:"reason"`
	}
	_ = json.Unmarshal(e.Raw, &why)
	status := map[string]string{domain.TypeRunSucceeded: "succeeded", domain.TypeRunFailed: "failed", domain.TypeRunCancelled: "cancelled"}[e.Type]
	return &runEnd{status: status, message: firstOf(why.Message, why.Reason)}
}

// runEventLine says what an event of a run means for a person following
// it: "compile (compiler) dispatched", "compile (compiler) failed: tests
// failed (attempt 1)", "compile retries at 15:04:05"; nothing for the
// events the run's last line says (its end) and for results it ignored.
func runEventLine(e sdk.Event) string {
	var about struct {
		Step    string              `json:"step"`
		Driver  string              `json:"driver"`
		Attempt int                 `json:"attempt"`
		Result  domain.DriverResult `json:"result"`
		Ignored string              `json:"ignored"`
		Reason  string              `json:"reason"`
		Message string              `json:"message"`
		At      time.Time           `json:"at"`
		Group   string              `json:"group"`
		Conc    struct {
			Group string `json:"group"`
			Limit int    `json:"limit"`
		} `json:"concurrency"`
	}
	_ = json.Unmarshal(e.Raw, &about)
	attempt := ""
	if about.Attempt > 1 {
		attempt = fmt.Sprintf(" (attempt %d)", about.Attempt)
	}
	switch e.Type {
	case domain.TypeRunStarted, domain.TypeRunSucceeded, domain.TypeRunFailed, domain.TypeRunCancelled:
		return ""
	case domain.TypeStepDispatched:
		return fmt.Sprintf("%s (%s) dispatched%s", about.Step, about.Driver, attempt)
	case domain.TypeDriverResultRecorded:
		if about.Ignored != "" {
			return ""
		}
		status := "failed"
		if about.Result.Success {
			status = "succeeded"
		}
		if about.Attempt > 0 && !about.Result.Success {
			attempt = fmt.Sprintf(" (attempt %d)", about.Attempt)
		}
		return fmt.Sprintf("%s (%s) %s%s%s", about.Step, about.Result.Driver, status, messageNote(about.Result.Message), attempt)
	case domain.TypeRunQueued:
		return fmt.Sprintf("queued in concurrency group %q", about.Conc.Group)
	case domain.TypeRunAdmitted:
		return fmt.Sprintf("runs: admitted by concurrency group %q", about.Group)
	case domain.TypeStepQueued:
		return fmt.Sprintf("%s queued: waits for a place in concurrency group %q (limit %d)", about.Step, about.Conc.Group, about.Conc.Limit)
	case domain.TypeStepAdmitted:
		return fmt.Sprintf("%s admitted by concurrency group %q", about.Step, about.Group)
	case domain.TypeStepRetryScheduled:
		return fmt.Sprintf("%s retries at %s%s", about.Step, about.At.Local().Format(time.TimeOnly), messageNote(about.Reason))
	}
	what := strings.TrimSuffix(e.Type, ".v1")
	if about.Step != "" {
		what = about.Step + ": " + what
	}
	return what + messageNote(firstOf(about.Reason, about.Message)) + attempt
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
