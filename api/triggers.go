package api

import (
	"context"
	"net/http"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
)

// TriggerBody is a trigger as clients save it: the path names it.
type TriggerBody struct {
	_               struct{}            `json:"-" additionalProperties:"true"`
	Name            string              `json:"name,omitempty" maxLength:"63" doc:"optional: when given, it must equal the path's name" example:"app-push"`
	Version         string              `json:"version,omitempty" doc:"ignored: the server counts versions"`
	Source          string              `json:"source" enum:"github,gitlab,gitea,generic,schedule" doc:"who sends the deliveries, which says how they are signed and where their event and id are; schedule: the trigger fires on its schedule" example:"github"`
	Events          []string            `json:"events,omitempty" maxItems:"32" doc:"the events the trigger takes: push, tag, pull_request, ping (github, gitea); push, tag, merge_request (gitlab); any name (generic); none for a schedule" example:"[\"push\"]"`
	Secret          string              `json:"secret,omitempty" maxLength:"63" doc:"the secret (PUT /secrets/{name}) deliveries are signed with; required unless insecure" example:"github-webhook"`
	Insecure        bool                `json:"insecure,omitempty" doc:"take deliveries without a signature; refused when the API listens off loopback"`
	SignatureHeader string              `json:"signatureHeader,omitempty" maxLength:"128" doc:"generic only: the header holding the HMAC-SHA256 of the body in hex" example:"X-Signature"`
	DeliveryHeader  string              `json:"deliveryHeader,omitempty" maxLength:"128" doc:"generic only: the header holding the delivery's id; absent: the SHA-256 of the body" example:"X-Delivery"`
	EventHeader     string              `json:"eventHeader,omitempty" maxLength:"128" doc:"generic only: the header holding the event's name; absent: every delivery is a push" example:"X-Event"`
	When            string              `json:"when,omitempty" maxLength:"4096" doc:"a CEL condition over headers, body and event: a delivery it finds false writes nothing" example:"body.ref == \"refs/heads/main\""`
	Resource        TriggerResourceBody `json:"resource" doc:"the resource each delivery writes"`
	Pipeline        string              `json:"pipeline,omitempty" maxLength:"63" doc:"the pipeline the resource names: each delivery starts a run of it" example:"ci"`
	Schedule        string              `json:"schedule,omitempty" maxLength:"256" doc:"schedule only: a cron expression (five fields, or @hourly, @daily, @every 10m, …)" example:"0 2 * * *"`
	TimeZone        string              `json:"timeZone,omitempty" maxLength:"64" doc:"schedule only: the IANA time zone the schedule is read in; default UTC" example:"Europe/Paris"`
	CatchUp         string              `json:"catchUp,omitempty" enum:"latest,none" doc:"schedule only: latest (the default) fires the latest tick missed while no server ran, once; none only the ticks to come"`
	Report          *TriggerReportBody  `json:"report,omitempty" doc:"optional: report each run the trigger starts to the git host as a commit status (pending, then success, failure or error)"`
}

// TriggerReportBody is where a trigger's runs are reported.
type TriggerReportBody struct {
	_          struct{} `json:"-" additionalProperties:"true"`
	Kind       string   `json:"kind" enum:"github,gitlab,gitea" doc:"the git host's API" example:"github"`
	BaseURL    string   `json:"baseURL,omitempty" maxLength:"512" doc:"the API's base URL: https://api.github.com and https://gitlab.com when absent; required for gitea" example:"https://gitea.example.com"`
	Token      string   `json:"token" maxLength:"63" doc:"the secret (PUT /secrets/{name}) holding the token the statuses are posted with" example:"github-status-token"`
	Repository string   `json:"repository" minLength:"1" maxLength:"4096" doc:"a CEL expression over the delivery giving the repository: owner/name (GitLab: the project's id or path)" example:"body.repository.full_name"`
	SHA        string   `json:"sha" minLength:"1" maxLength:"4096" doc:"a CEL expression over the delivery giving the commit" example:"body.after"`
}

// TriggerResourceBody is the resource a trigger writes: its type, and CEL
// expressions for its name and each field of its spec.
type TriggerResourceBody struct {
	_    struct{}          `json:"-" additionalProperties:"true"`
	Type string            `json:"type" maxLength:"63" doc:"the resource definition" example:"build"`
	Name string            `json:"name" minLength:"1" maxLength:"4096" doc:"a CEL expression over headers, body and event giving the resource's name" example:"\"app-\" + body.after.substring(0, 12)"`
	Spec map[string]string `json:"spec,omitempty" doc:"for each field of the spec, a CEL expression over headers, body and event giving its value" example:"{\"repo\":\"body.repository.clone_url\",\"ref\":\"body.after\"}"`
}

func (b TriggerBody) trigger(name string) domain.Trigger {
	return domain.Trigger{Name: name, Source: b.Source, Events: b.Events, Secret: b.Secret, Insecure: b.Insecure,
		SignatureHeader: b.SignatureHeader, DeliveryHeader: b.DeliveryHeader, EventHeader: b.EventHeader, When: b.When,
		Resource: domain.TriggerResource{Type: b.Resource.Type, Name: b.Resource.Name, Spec: b.Resource.Spec}, Pipeline: b.Pipeline,
		Schedule: b.Schedule, TimeZone: b.TimeZone, CatchUp: b.CatchUp, Report: b.Report.report()}
}

func (b *TriggerReportBody) report() *domain.TriggerReport {
	if b == nil {
		return nil
	}
	return &domain.TriggerReport{Kind: b.Kind, BaseURL: b.BaseURL, Token: b.Token, Repository: b.Repository, SHA: b.SHA}
}

type triggerInput struct {
	Name string `path:"name" doc:"the trigger's name"`
	Body TriggerBody
}

type triggerOutput struct {
	// Unchanged is "true" when the save changed nothing.
	Unchanged string `header:"Conveyor-Unchanged" doc:"true when the trigger was already so: nothing was written, the version stays"`
	Body      domain.Trigger
}

func triggerOf(v projections.TriggerView) domain.Trigger { return v.Trigger }

// registerTriggers serves /triggers: triggers written like the other
// kinds, admins writing and viewers reading.
func (s *Server) registerTriggers() {
	const tag = "triggers"
	huma.Register(s.api, s.op(http.MethodPut, "/triggers/{name}", "save-trigger", "Create or replace a trigger",
		"Saves the trigger named in the path: the deliveries it takes at POST /hooks/{name} and the resource each writes. "+
			"Refused with 422, naming the field and why: an expression that does not compile, a resource type that is not defined, "+
			"a pipeline that does not run over it, a secret that is not set, no secret without insecure, and insecure when the API "+
			"listens off loopback; for a schedule, a cron expression or a time zone that cannot be read, and a secret or insecure.", tag),
		func(ctx context.Context, in *triggerInput) (*triggerOutput, error) {
			if in.Body.Name != "" && in.Body.Name != in.Name {
				return nil, huma.Error422UnprocessableEntity("the name in the body differs from the name in the path",
					&huma.ErrorDetail{Location: "body.name", Message: "must equal the path's name " + in.Name, Value: in.Body.Name})
			}
			t, changed, err := s.cmd.SaveTrigger(ctx, commands.SaveTrigger{Trigger: in.Body.trigger(in.Name)})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &triggerOutput{Unchanged: unchanged(changed), Body: t}, nil
		})

	huma.Register(s.api, s.op(http.MethodGet, "/triggers", "list-triggers", "List triggers",
		"Triggers in name order, a page at a time.", tag),
		func(ctx context.Context, in *PageInput) (*listOutput[domain.Trigger], error) {
			views, next, err := s.q.Triggers(ctx, in.page())
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return mapList(views, next, triggerOf), nil
		})

	huma.Register(s.api, s.op(http.MethodGet, "/triggers/{name}", "get-trigger", "Read a trigger",
		"The trigger as last saved.", tag),
		func(ctx context.Context, in *nameInput) (*triggerOutput, error) {
			if err := checkPath("name", in.Name); err != nil {
				return nil, err
			}
			v, err := s.q.Trigger(ctx, in.Name)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &triggerOutput{Body: v.Trigger}, nil
		})

	del := s.op(http.MethodDelete, "/triggers/{name}", "delete-trigger", "Delete a trigger",
		"Removes the trigger: deliveries to it are refused from then on. The resources and runs it started stay.", tag)
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, func(ctx context.Context, in *nameInput) (*struct{}, error) {
		if err := s.cmd.DeleteTrigger(ctx, commands.DeleteTrigger{Name: in.Name}); err != nil {
			return nil, s.problem(ctx, err)
		}
		s.hookMemory.forget(in.Name)
		return nil, nil
	})
}
