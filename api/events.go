package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
)

type eventsInput struct {
	Aggregate   string    `query:"aggregate" doc:"only events of this aggregate kind (definition, resource, pipeline, run, trigger, delivery, …), or KIND/ID for one aggregate (resource/build/app-1)"`
	Correlation string    `query:"runid" doc:"only events of this Run ID (correlation id)"`
	Type        string    `query:"type" doc:"only events of this type, e.g. RunFailed.v1"`
	After       uint64    `query:"after" doc:"only events after this log sequence"`
	Since       time.Time `query:"since" doc:"only events at or after this time (RFC 3339)"`
	Until       time.Time `query:"until" doc:"only events before this time (RFC 3339)"`
	Limit       int       `query:"limit" minimum:"0" maximum:"1000" doc:"events per page (default 100)"`
	Continue    string    `query:"continue" doc:"token from the previous page's continue field, as every list takes it; the same as after= that page's next"`
}

// query is what in asks the log for. A continue token is the position a
// page ended at, written as after= would be: the one way every list of the
// API pages (continue) and the audit's own (after) lead to the same page.
func (in eventsInput) query() (projections.EventQuery, error) {
	after := in.After
	if in.Continue != "" {
		pos, err := strconv.ParseUint(in.Continue, 10, 64)
		if err != nil || pos == 0 {
			return projections.EventQuery{}, huma.Error422UnprocessableEntity("continue is not a token of this list",
				&huma.ErrorDetail{Location: "query.continue", Message: "pass the continue field of the previous page unchanged", Value: in.Continue})
		}
		if in.After != 0 && in.After != pos {
			return projections.EventQuery{}, huma.Error422UnprocessableEntity("after and continue name different pages",
				&huma.ErrorDetail{Location: "query.continue", Message: "give after or continue, not both", Value: in.Continue})
		}
		after = pos
	}
	q := projections.EventQuery{Correlation: in.Correlation, Type: in.Type, After: after,
		Since: in.Since, Until: in.Until, Limit: in.Limit}
	q.Aggregate, q.ID = splitAggregate(in.Aggregate)
	return q, nil
}

// splitAggregate reads "resource/build/app-1" as kind "resource", id
// "build/app-1".
func splitAggregate(s string) (string, string) {
	for i := range len(s) {
		if s[i] == '/' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// eventsPage is the page GET /events answers, as the OpenAPI document
// describes it.
type eventsPage struct {
	Items []json.RawMessage `json:"items" doc:"events in log order, each with its id, type, aggregate, version, time, correlation and causation ids and sequence"`
	// Next is the after= of the next page; absent on the last.
	Next uint64 `json:"next,omitempty"`
	// Continue is the same position as a token, as the other lists answer.
	Continue string `json:"continue,omitempty" doc:"pass as ?continue= to get the next page (the same as after=next); absent on the last page"`
}

// eventsOutput is an eventsPage written as it is built: the events are the
// log's stored JSON, so encoding the page again (and checking each event,
// as encoding/json does with a json.RawMessage) is work for nothing.
type eventsOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

// pageJSON writes a page of stored events.
func pageJSON(events []json.RawMessage, next uint64) []byte {
	size := 32
	for _, e := range events {
		size += len(e) + 1
	}
	out := make([]byte, 0, size)
	out = append(out, `{"items":[`...)
	for i, e := range events {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, e...)
	}
	out = append(out, ']')
	if next != 0 {
		out = append(out, `,"next":`...)
		out = strconv.AppendUint(out, next, 10)
		out = append(out, `,"continue":"`...)
		out = strconv.AppendUint(out, next, 10)
		out = append(out, '"')
	}
	return append(out, '}')
}

// traceOutput answers "why did this run, and what happened".
type traceOutput struct {
	Body struct {
		RunID string `json:"runid"`
		// Cause is the resource change that started the run.
		Cause any `json:"cause"`
		// Trigger is the webhook delivery (TriggerFired) that caused the
		// resource change, when a trigger did.
		Trigger any `json:"trigger,omitempty"`
		// Events are the run's own events in order: its start, each dispatch
		// and result, its end. Each causationId names the event before it
		// in the chain that led to it (or the result message).
		Events []any `json:"events"`
	}
}

// historyEntry is one change of a resource.
type historyEntry struct {
	Sequence      uint64    `json:"sequence"`
	EventID       string    `json:"eventId"`
	Type          string    `json:"type"`
	Time          time.Time `json:"time"`
	Version       int       `json:"version,omitempty" doc:"the resource version the change made"`
	RunID         string    `json:"runid,omitempty" doc:"the run the change started, when the resource names a pipeline"`
	CausationID   string    `json:"causationId,omitempty"`
	Pipeline      string    `json:"pipeline,omitempty"`
	Spec          any       `json:"spec,omitempty"`
	Metadata      any       `json:"metadata,omitempty"`
	AggregateSeen uint64    `json:"aggregateVersion"`
}

type historyOutput struct {
	Body struct {
		Items []historyEntry `json:"items"`
	}
}

func asAny(events []domain.Event) []any {
	out := make([]any, len(events))
	for i, e := range events {
		out[i] = e
	}
	return out
}

func (s *Server) registerEvents() {
	const tag = "audit"
	list := s.op(http.MethodGet, "/events", "list-events", "Page through the event log",
		"The event log for audits, in log order, filtered by aggregate, Run ID, type and time, a page at a time (`after` or `continue`). `GET /events/stream` follows it live over WebSocket (docs/api.md).", tag)
	list.Responses = map[string]*huma.Response{"200": {Description: "OK", Content: map[string]*huma.MediaType{
		"application/json": {Schema: s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeOf(eventsPage{}), true, "EventsPage")},
	}}}
	huma.Register(s.api, list, func(ctx context.Context, in *eventsInput) (*eventsOutput, error) {
		q, err := in.query()
		if err != nil {
			return nil, err
		}
		events, next, err := s.events.Events(ctx, q)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return &eventsOutput{ContentType: "application/json", Body: pageJSON(events, next)}, nil
	})

	huma.Register(s.api, s.op(http.MethodGet, "/runs/{id}/trace", "trace-run",
		"The causal chain of a run: the resource change that caused it, then each dispatch and result",
		"Why the run happened and what it did: the resource event that caused it (and the webhook delivery that caused that, when a trigger did), then the run's own events (its start, each dispatch and result, its end), each with its id, time and causation id.", "runs"),
		func(ctx context.Context, in *runPath) (*traceOutput, error) {
			run, err := s.q.Run(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			events, err := s.events.Load(ctx, domain.AggregateRun, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			cause, err := s.causeOf(ctx, run.Run, events)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &traceOutput{}
			out.Body.RunID, out.Body.Cause, out.Body.Events = in.ID, cause, asAny(events)
			if out.Body.Trigger, err = s.deliveryOf(ctx, cause); err != nil {
				return nil, s.problem(ctx, err)
			}
			return out, nil
		})

	huma.Register(s.api, s.op(http.MethodGet, "/resources/{type}/{name}/history", "resource-history",
		"Every change of a resource: what changed, when, and which run followed",
		"Every change of the resource, from the event log: the event, when, the version it made and the run it started.", "resources"),
		func(ctx context.Context, in *struct {
			Type string `path:"type"`
			Name string `path:"name"`
		}) (*historyOutput, error) {
			if err := checkPath("type", in.Type, "name", in.Name); err != nil {
				return nil, err
			}
			events, err := s.events.Load(ctx, domain.AggregateResource, domain.ResourceKey(in.Type, in.Name))
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			if len(events) == 0 {
				return nil, huma.Error404NotFound("resource " + domain.ResourceKey(in.Type, in.Name) + " has no history")
			}
			out := &historyOutput{}
			for _, e := range events {
				out.Body.Items = append(out.Body.Items, historyOf(e))
			}
			return out, nil
		})
}

// causeOf finds the resource event that started run.
func (s *Server) causeOf(ctx context.Context, run domain.Run, events []domain.Event) (domain.Event, error) {
	if len(events) == 0 {
		return nil, errors.New("run has no events")
	}
	resourceEvents, err := s.events.Load(ctx, domain.AggregateResource, run.Resource.Key())
	if err != nil {
		return nil, err
	}
	started := events[0].EventMeta()
	for _, e := range resourceEvents {
		if e.EventMeta().ID == started.CausationID {
			return e, nil
		}
	}
	return nil, nil // the resource's stream no longer holds it (it cannot be: the log is append-only)
}

func historyOf(e domain.Event) historyEntry {
	m := e.EventMeta()
	h := historyEntry{Sequence: m.Sequence, EventID: m.ID, Type: m.Type, Time: m.Time, CausationID: m.CausationID,
		AggregateSeen: m.Version}
	var r *domain.Resource
	switch e := e.(type) {
	case *domain.ResourceCreated:
		r = &e.Resource
	case *domain.ResourceUpdated:
		r = &e.Resource
	}
	if r != nil {
		h.Version, h.Pipeline, h.Spec, h.Metadata = r.Version(), r.Pipeline, r.Spec, r.Metadata
		if r.Pipeline != "" {
			h.RunID = m.CorrelationID
		}
	}
	return h
}
