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
)

// TriggerTryBody is a delivery to try on a trigger.
type TriggerTryBody struct {
	Event   string            `json:"event,omitempty" maxLength:"128" doc:"the delivery's event (push, tag, pull_request, merge_request, ping, or a generic trigger's name); absent: the one its headers name, as the git host sends it" example:"push"`
	Headers map[string]string `json:"headers,omitempty" maxProperties:"64" doc:"the delivery's headers, as the git host sends them (the event's header, a generic trigger's headers)" example:"{\"X-GitHub-Event\":\"push\"}"`
	Payload json.RawMessage   `json:"payload" doc:"the git host's JSON payload"`
}

type triggerTryInput struct {
	Name string `path:"name" doc:"the trigger's name"`
	Body TriggerTryBody
}

// TriggerTryAnswer is what a delivery like the one tried would do.
type TriggerTryAnswer struct {
	Outcome  string               `json:"outcome" enum:"would fire,ignored,ping" doc:"would fire: a real delivery like it would write the resource (and start its run, when it names a pipeline); ignored: it would write nothing, reason says why; ping: it is a ping"`
	Reason   string               `json:"reason,omitempty" example:"its condition is false: body.ref == \"refs/heads/main\""`
	Event    string               `json:"event,omitempty" example:"push"`
	Resource *domain.Resource     `json:"resource,omitempty" doc:"the resource it would write: its type, its name and spec from the trigger's expressions, and the pipeline"`
	Report   *domain.StatusTarget `json:"report,omitempty" doc:"where the run's statuses would be reported: the git host, the repository and the commit its expressions give"`
}

type triggerTryOutput struct{ Body TriggerTryAnswer }

// registerTriggerTry serves POST /triggers/{name}/test: a trigger tried on a
// delivery, writing nothing.
func (s *Server) registerTriggerTry() {
	huma.Register(s.api, s.op(http.MethodPost, "/triggers/{name}/test", "test-trigger", "Try a trigger on a delivery (writes nothing)",
		"Evaluates the trigger on the payload and headers given, as a delivery to POST /hooks/{name} would be, but without "+
			"its signature and delivery id, and writes nothing: the event, the condition, the resource's name and spec "+
			"(checked against its definition), and where the run would be reported. An expression that fails, or a spec the "+
			"definition refuses, is the 422 a real delivery would meet; a payload that is not JSON is a 400.", "triggers"),
		func(ctx context.Context, in *triggerTryInput) (*triggerTryOutput, error) {
			if err := checkPath("name", in.Name); err != nil {
				return nil, err
			}
			headers := make(map[string]string, len(in.Body.Headers))
			for k, v := range in.Body.Headers {
				headers[strings.ToLower(k)] = v
			}
			tried, err := s.cmd.TryDelivery(ctx, commands.TryDelivery{Trigger: in.Name, Event: in.Body.Event,
				Delivery: domain.Delivery{Headers: headers, Body: in.Body.Payload}})
			var bad *commands.BadDelivery
			switch {
			case errors.As(err, &bad):
				return nil, huma.Error400BadRequest(bad.Reason)
			case err != nil:
				return nil, s.problem(ctx, err)
			}
			answer := TriggerTryAnswer{Outcome: tried.Outcome, Reason: tried.Reason, Event: tried.Event, Report: tried.Report}
			if tried.Outcome == commands.DeliveryWouldFire {
				answer.Resource = &tried.Resource
			}
			return &triggerTryOutput{Body: answer}, nil
		})
}
