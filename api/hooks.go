package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// MaxHookBody bounds a webhook delivery's body: 5 MiB, above the API's
// usual limit, as a push of many commits is large. GitHub sends at most
// 25 MiB and drops larger payloads itself; the server answers 413 above it.
const MaxHookBody = 5 << 20

// unauthenticatedDelivery is the one answer to a delivery whose signature
// is missing or wrong, or whose trigger does not exist: it tells a stranger
// nothing.
const unauthenticatedDelivery = "the delivery is not signed with the trigger's secret"

// hookInput is a delivery: the raw body, as signed, and every header.
type hookInput struct {
	Trigger string `path:"trigger" doc:"the trigger's name"`
	RawBody []byte `contentType:"application/json" doc:"the git host's JSON payload, as it signed it"`
	headers map[string]string
}

// Resolve keeps each header's first value by its lower-case name.
func (in *hookInput) Resolve(ctx huma.Context) []error {
	in.headers = map[string]string{}
	ctx.EachHeader(func(name, value string) {
		name = strings.ToLower(name)
		if _, seen := in.headers[name]; !seen {
			in.headers[name] = value
		}
	})
	return nil
}

// HookAnswer is what a delivery did.
type HookAnswer struct {
	Outcome  string `json:"outcome" enum:"fired,ignored,ping" doc:"fired: the resource was written (and its run started, when it names a pipeline); ignored: nothing was written, reason says why; ping: the trigger is reachable"`
	Reason   string `json:"reason,omitempty" example:"trigger \"app-push\" does not take \"pull_request\" events (it takes [push])"`
	Event    string `json:"event,omitempty" example:"push"`
	Delivery string `json:"delivery,omitempty" doc:"the delivery's id: a delivery sent again with it writes nothing new and gets this same answer" example:"72d3162e-cc78-11e3-81ab-4c9367dc0958"`
	Resource string `json:"resource,omitempty" doc:"TYPE/NAME of the resource written" example:"build/app-abc123"`
	Version  int    `json:"version,omitempty" doc:"the resource version written" example:"1"`
	RunID    string `json:"runid,omitempty" doc:"the Run ID of the resource write; the run has it when the resource names a pipeline" example:"8f14e45f-ceea-4e7a-9c2b-7f1d0c5b2a61"`
}

type hookOutput struct {
	Status int
	Body   HookAnswer
}

// hookStatus is the status of each outcome.
var hookStatus = map[string]int{commands.DeliveryFired: http.StatusCreated, commands.DeliveryIgnored: http.StatusAccepted,
	commands.DeliveryPing: http.StatusOK}

// registerHooks serves POST /hooks/{trigger}, the one write without a
// bearer token: the delivery's signature authenticates it.
func (s *Server) registerHooks() {
	op := s.op(http.MethodPost, hookPath, "receive-delivery", "Receive a webhook delivery (signed, no token)",
		"A git host's webhook delivery to a trigger. No bearer token: the signature over the raw body (GitHub, Gitea: "+
			"X-Hub-Signature-256; GitLab: X-Gitlab-Token; generic: the trigger's signatureHeader) authenticates it, and a "+
			"missing or wrong one, or an unknown trigger, is a 401 that writes nothing. 201: the resource was written; "+
			"202: the trigger does not take the event or its condition is false, nothing written; 200: a ping. "+
			"The delivery id makes it idempotent: a delivery sent again gets the first one's answer. The body must be JSON "+
			"(415 for a form), at most 5 MiB (413).", "triggers")
	op.MaxBodyBytes = MaxHookBody + 1
	op.SkipValidateBody = true // the raw body is read as signed; ReceiveDelivery decodes it
	huma.Register(s.api, op, func(ctx context.Context, in *hookInput) (*hookOutput, error) {
		ctx = commands.WithActor(ctx, domain.Actor{Kind: domain.ActorTrigger, Name: in.Trigger})
		out, err := s.cmd.ReceiveDelivery(ctx, commands.ReceiveDelivery{Trigger: in.Trigger,
			Delivery: domain.Delivery{Headers: in.headers, Body: in.RawBody}})
		var bad *commands.BadDelivery
		switch {
		case errors.Is(err, domain.ErrUnauthenticated):
			s.metrics.hooksRefused.Inc()
			return nil, huma.Error401Unauthorized(unauthenticatedDelivery)
		case errors.As(err, &bad):
			noteDelivery(ctx, "", "")
			return nil, huma.Error400BadRequest(bad.Reason)
		case err != nil:
			return nil, s.problem(ctx, err)
		}
		noteDelivery(ctx, out.Event, out.Delivery)
		answer := HookAnswer{Outcome: out.Outcome, Reason: out.Reason, Event: out.Event, RunID: out.RunID}
		if out.Outcome == commands.DeliveryFired {
			answer.Resource, answer.Version, answer.Delivery = out.Resource.Key(), out.Resource.Version(), out.Delivery
		}
		return &hookOutput{Status: hookStatus[out.Outcome], Body: answer}, nil
	})
	// The body is any JSON object the git host sends, not a string.
	if body := s.api.OpenAPI().Paths[hookPath].Post.RequestBody; body != nil {
		body.Content["application/json"].Schema = &huma.Schema{Type: huma.TypeObject, AdditionalProperties: true,
			Description: "the git host's payload, as it signed it"}
		body.Content["application/json"].Example = json.RawMessage(exampleDelivery)
	}
}

// deliveryOf is the TriggerFired that caused the resource change cause,
// when a trigger caused it (its actor names the trigger), else nil.
func (s *Server) deliveryOf(ctx context.Context, cause domain.Event) (any, error) {
	if cause == nil {
		return nil, nil
	}
	m := cause.EventMeta()
	if m.Actor == nil || m.Actor.Kind != domain.ActorTrigger {
		return nil, nil
	}
	events, err := s.events.Load(ctx, domain.AggregateDelivery, domain.FiredKey(m.Actor.Name, m.CausationID))
	if err != nil || len(events) == 0 {
		return nil, err
	}
	return events[0], nil
}

// newHooksRefused counts the deliveries refused for their signature.
func newHooksRefused(r *prometheus.Registry) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "conveyor_hook_deliveries_unauthenticated_total",
		Help: "Webhook deliveries refused because their signature was missing or wrong, or their trigger unknown.",
	})
	r.MustRegister(c)
	return c
}
