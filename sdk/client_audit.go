package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// LogLine is one stored line of a run's log.
type LogLine struct {
	Sequence uint64 `json:"sequence"`
	RunID    string `json:"runid"`
	Driver   string `json:"driver"`
	Pipeline string `json:"pipeline,omitempty"`
	Step     string `json:"step,omitempty"`
	Attempt  int    `json:"attempt,omitempty"`
	// Line is the line's number from 1: in the run's log, or in the
	// step's when the reader asked for one step.
	Line    int       `json:"line,omitempty"`
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// LogFilter selects lines of a run's log: of one driver, step and attempt
// of the step when set. After and Line are where a page starts: after the
// line with sequence After, whose number was Line (the last line of the
// previous page).
type LogFilter struct {
	Driver, Step string
	Attempt      int
	After        uint64
	Line         int
}

func (f LogFilter) query() url.Values {
	q := url.Values{}
	if f.Driver != "" {
		q.Set("driver", f.Driver)
	}
	if f.Step != "" {
		q.Set("step", f.Step)
	}
	if f.Attempt > 0 {
		q.Set("attempt", strconv.Itoa(f.Attempt))
	}
	if f.After > 0 {
		q.Set("after", strconv.FormatUint(f.After, 10))
	}
	if f.Line > 0 {
		q.Set("line", strconv.Itoa(f.Line))
	}
	return q
}

// LogPage is a page of stored lines; Next is the After of the next page (0:
// this was the last).
type LogPage struct {
	Items []LogLine `json:"items"`
	Next  uint64    `json:"next"`
}

// RunLogs reads a page of the stored lines of a run that f selects.
func (c *Client) RunLogs(ctx context.Context, runID string, f LogFilter) (LogPage, error) {
	var out LogPage
	_, err := c.do(ctx, http.MethodGet, "/runs/"+esc(runID)+"/logs"+Page{}.query(f.query()), nil, &out)
	return out, err
}

// FollowRunLogs streams a run's lines that f selects over WebSocket: the
// stored ones, then each new one, until the run has ended and every line
// is delivered (nil), ctx ends, or fn returns an error.
func (c *Client) FollowRunLogs(ctx context.Context, runID string, f LogFilter, fn func(LogLine) error) error {
	return c.follow(ctx, "/runs/"+esc(runID)+"/logs/stream?"+f.query().Encode(), func(data []byte) error {
		var l LogLine
		if err := json.Unmarshal(data, &l); err != nil {
			return err
		}
		return fn(l)
	})
}

// Event is one event of the log, as the server records it.
type Event struct {
	ID            string    `json:"id"`
	Type          string    `json:"type"`
	Aggregate     string    `json:"aggregate"`
	AggregateID   string    `json:"aggregateId"`
	Version       uint64    `json:"aggregateVersion"`
	Time          time.Time `json:"time"`
	CorrelationID string    `json:"correlationId,omitempty"`
	CausationID   string    `json:"causationId,omitempty"`
	Sequence      uint64    `json:"sequence"`
	// Actor is who caused the event; nil for events from before the
	// server recorded actors.
	Actor *Actor          `json:"actor,omitempty"`
	Raw   json.RawMessage `json:"-"`
}

// Actor is who caused an event: a token (Kind "token", its Name and ID) or
// the server itself (Kind "server": Name "engine" for the decisions of a
// run).
type Actor struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	ID   string `json:"id,omitempty"`
}

// String is "token NAME" or "server NAME".
func (a *Actor) String() string {
	if a == nil {
		return ""
	}
	return a.Kind + " " + a.Name
}

// UnmarshalJSON keeps the whole event in Raw beside its envelope.
func (e *Event) UnmarshalJSON(data []byte) error {
	type envelope Event
	if err := json.Unmarshal(data, (*envelope)(e)); err != nil {
		return err
	}
	e.Raw = append(json.RawMessage(nil), data...)
	return nil
}

// EventFilter selects events: Aggregate is a kind or KIND/ID.
type EventFilter struct {
	Aggregate, RunID, Type string
	After                  uint64
	Limit                  int
}

func (f EventFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"aggregate": f.Aggregate, "runid": f.RunID, "type": f.Type} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.After > 0 {
		q.Set("after", strconv.FormatUint(f.After, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// EventPage is a page of events; Next is the After of the next page.
type EventPage struct {
	Items []Event `json:"items"`
	Next  uint64  `json:"next"`
}

// Events reads one page of the event log.
func (c *Client) Events(ctx context.Context, f EventFilter) (EventPage, error) {
	var out EventPage
	_, err := c.do(ctx, http.MethodGet, "/events?"+f.query().Encode(), nil, &out)
	return out, err
}

// FollowEvents streams the event log over WebSocket from f.After on, until
// ctx ends or fn returns an error.
func (c *Client) FollowEvents(ctx context.Context, f EventFilter, fn func(Event) error) error {
	return c.follow(ctx, "/events/stream?"+f.query().Encode(), func(data []byte) error {
		var e Event
		if err := json.Unmarshal(data, &e); err != nil {
			return err
		}
		return fn(e)
	})
}

// Trace is why a run happened and what happened in it.
type Trace struct {
	RunID  string  `json:"runid"`
	Cause  *Event  `json:"cause"`
	Events []Event `json:"events"`
	// Trigger is the webhook delivery (TriggerFired) that caused Cause,
	// when a trigger did.
	Trigger *Event `json:"trigger,omitempty"`
}

// Trace reads the causal chain of a run.
func (c *Client) Trace(ctx context.Context, runID string) (Trace, error) {
	var out Trace
	_, err := c.do(ctx, http.MethodGet, "/runs/"+esc(runID)+"/trace", nil, &out)
	return out, err
}

// follow reads text messages of a WebSocket endpoint until it closes.
func (c *Client) follow(ctx context.Context, path string, fn func([]byte) error) error {
	u := "ws" + strings.TrimPrefix(c.base, "http") + path
	header := http.Header{}
	c.authorize(header)
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: &http.Client{Transport: c.http.Transport}, HTTPHeader: header})
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 {
			return &APIError{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Detail: err.Error()}
		}
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(8 << 20)
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) && ce.Code == websocket.StatusNormalClosure {
				return nil
			}
			if errors.As(err, &ce) {
				return fmt.Errorf("stream closed: %s", ce.Reason)
			}
			return err
		}
		if err := fn(data); err != nil {
			return err
		}
	}
}
