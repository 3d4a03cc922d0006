package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
)

// ResourceFields are the fields of a resource as clients send it
// (sdk/protocol/resource.schema.json), but its name and type. It is exported because
// huma documents the fields of embedded structs only when they are.
type ResourceFields struct {
	ID       string            `json:"id,omitempty" doc:"ignored: the server assigns the id"`
	Pipeline string            `json:"pipeline,omitempty" pattern:"^([a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)?$" patternDescription:"must be empty or 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" doc:"the pipeline each change of this resource runs; empty: none" example:"ci"`
	Metadata map[string]string `json:"metadata,omitempty" doc:"client keys are kept; version and driverresults.* belong to the server" example:"{\"team\":\"web\"}"`
	Spec     map[string]any    `json:"spec" doc:"validated against the definition's schema" example:"{\"repo\":\"https://git.example/app.git\",\"ref\":\"main\"}"`
}

// resourceBody is a resource as clients create it.
type resourceBody struct {
	_    struct{} `json:"-" additionalProperties:"true"`
	Name string   `json:"name" required:"true" pattern:"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$" patternDescription:"must be 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" example:"app-1"`
	Type string   `json:"resource" required:"true" pattern:"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$" patternDescription:"must be 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" doc:"the resource definition" example:"build"`
	ResourceFields
}

// resourceReplacement is a resource as clients replace it: the path names
// it.
type resourceReplacement struct {
	_    struct{} `json:"-" additionalProperties:"true"`
	Name string   `json:"name,omitempty" pattern:"^([a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)?$" patternDescription:"must be empty or 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" doc:"optional: when given, it must equal the path's name" example:"app-1"`
	Type string   `json:"resource,omitempty" pattern:"^([a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)?$" patternDescription:"must be empty or 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" doc:"optional: when given, it must equal the path's type" example:"build"`
	ResourceFields
}

func (b resourceBody) resource() (domain.Resource, error) {
	spec, err := json.Marshal(b.Spec)
	if err != nil {
		return domain.Resource{}, domain.Invalid("spec", "must be a JSON object")
	}
	return domain.Resource{Name: b.Name, Type: b.Type, Pipeline: b.Pipeline, Metadata: b.Metadata, Spec: spec}, nil
}

type resourceInput struct {
	Body resourceBody
}

type resourcePath struct {
	Type string `path:"type" doc:"the resource definition"`
	Name string `path:"name"`
}

type replaceResourceInput struct {
	Type    string `path:"type" doc:"the resource definition"`
	Name    string `path:"name"`
	IfMatch string `header:"If-Match" doc:"the version the client read (the ETag of GET); a newer version on the server is a 409"`
	Body    resourceReplacement
}

// writeResult answers a create or a replace. The original Conveyor CI client
// reads name and runid.
type writeResult struct {
	Name     string          `json:"name"`
	RunID    string          `json:"runid" doc:"the Run ID of the run this change starts (when the resource names a pipeline)"`
	Version  int             `json:"version"`
	Message  string          `json:"message"`
	Resource domain.Resource `json:"resource"`
}

type writeOutput struct {
	Status int
	ETag   string `header:"ETag"`
	Body   writeResult
}

// HeaderRunID names the run a replace started; the answer's body is the
// resource itself, as the original Conveyor CI answers a PUT.
const HeaderRunID = "Conveyor-Run-Id"

// replaceOutput answers a replace with the resource as stored (the original
// client decodes the answer as a Resource); its version is the ETag, and
// the run it started the Conveyor-Run-Id header.
type replaceOutput struct {
	ETag  string `header:"ETag"`
	RunID string `header:"Conveyor-Run-Id" doc:"the Run ID of the run this change starts (when the resource names a pipeline)"`
	Body  domain.Resource
}

type resourceOutput struct {
	ETag string `header:"ETag"`
	Body domain.Resource
}

func resourceOf(v projections.ResourceView) domain.Resource { return v.Resource }

func etag(version int) string { return strconv.Quote(strconv.Itoa(version)) }

func (s *Server) registerResources() {
	const tag = "resources"
	create := s.op(http.MethodPost, "/resources", "create-resource", "Create a resource; starts a run if it names a pipeline",
		"Validates the spec against its definition's schema and stores the resource at version 1. When it names a pipeline, a run starts: the answer's `runid` names it (`GET /runs/{id}` follows it).", tag)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, func(ctx context.Context, in *resourceInput) (*writeOutput, error) {
		r, err := in.Body.resource()
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		res, err := s.cmd.CreateResource(ctx, commands.CreateResource{Resource: r})
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return written(http.StatusCreated, "resource created", res.RunID, res.Resource), nil
	})

	huma.Register(s.api, s.op(http.MethodPut, "/resources/{type}/{name}", "replace-resource",
		"Replace a resource: a new version and a new run; If-Match or metadata.version guard against lost updates",
		"Stores a new version of the resource and, when it names a pipeline, starts a new run. `If-Match` (the ETag of a read) or `metadata.version` in the body names the version the client read: a newer one on the server is a 409 instead of a lost update. The body's name and resource, when given, must equal the path's. The answer is the resource as stored, as the original Conveyor CI answers; its version is the `ETag`, and the run it started is the `Conveyor-Run-Id` header.", tag),
		func(ctx context.Context, in *replaceResourceInput) (*replaceOutput, error) {
			r, expected, err := in.resource()
			if err != nil {
				return nil, err
			}
			res, err := s.cmd.ReplaceResource(ctx, commands.ReplaceResource{Resource: r, ExpectedVersion: expected})
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			stored := res.Resource
			if v, err := s.q.ResourceVersion(ctx, r.Type, r.Name, stored.Version()); err == nil {
				stored = v.Resource // with the driver results the read model kept
			}
			return &replaceOutput{ETag: etag(stored.Version()), RunID: res.RunID, Body: stored}, nil
		})

	huma.Register(s.api, s.op(http.MethodGet, "/resources", "list-resources", "List resources, optionally of one type",
		"Resources in key order, optionally only those of one definition (`?resource=`), a page at a time.", tag),
		func(ctx context.Context, in *struct {
			Type string `query:"resource" doc:"only resources of this definition"`
			PageInput
		}) (*listOutput[domain.Resource], error) {
			views, next, err := s.q.Resources(ctx, in.Type, in.page())
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return mapList(views, next, resourceOf), nil
		})

	huma.Register(s.api, s.op(http.MethodGet, "/resources/{type}", "list-resources-of-type", "List the resources of one type",
		"The resources of the definition named in the path, a page at a time.", tag),
		func(ctx context.Context, in *struct {
			Type string `path:"type"`
			PageInput
		}) (*listOutput[domain.Resource], error) {
			if err := checkPath("type", in.Type); err != nil {
				return nil, err
			}
			views, next, err := s.q.Resources(ctx, in.Type, in.page())
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return mapList(views, next, resourceOf), nil
		})

	huma.Register(s.api, s.op(http.MethodGet, "/resources/{type}/{name}", "get-resource",
		"Read a resource; with at, as it was then, rebuilt from the event log",
		"The resource as last stored, with its version as the ETag. With `at`, the resource as it was at that time or log position, rebuilt from the event log.", tag),
		func(ctx context.Context, in *struct {
			Type string `path:"type" doc:"the resource definition"`
			Name string `path:"name"`
			At   string `query:"at" doc:"answer the state as it was then, rebuilt from the event log: an RFC 3339 time or a log position (a positive integer: the stream sequence GET /events shows)" example:"2026-03-01T12:00:00Z"`
		}) (*resourceOutput, error) {
			if err := checkPath("type", in.Type, "name", in.Name); err != nil {
				return nil, err
			}
			if in.At != "" {
				at, err := moment(in.At)
				if err != nil {
					return nil, err
				}
				r, err := s.resourceAt(ctx, in.Type, in.Name, at)
				if err != nil {
					return nil, err
				}
				return &resourceOutput{ETag: etag(r.Version()), Body: r}, nil
			}
			v, err := s.q.Resource(ctx, in.Type, in.Name)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &resourceOutput{ETag: etag(v.Version()), Body: v.Resource}, nil
		})

	del := s.op(http.MethodDelete, "/resources/{type}/{name}", "delete-resource", "Delete a resource",
		"Removes the resource. Its history stays in the event log.", tag)
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, func(ctx context.Context, in *resourcePath) (*struct{}, error) {
		if err := s.cmd.DeleteResource(ctx, commands.DeleteResource{Type: in.Type, Name: in.Name}); err != nil {
			return nil, s.problem(ctx, err)
		}
		return nil, nil
	})

	huma.Register(s.api, s.op(http.MethodGet, "/resources/{type}/{name}/versions", "list-resource-versions", "The version history of a resource, oldest first",
		"Every stored version of the resource, oldest first, a page at a time.", tag),
		func(ctx context.Context, in *struct {
			Type string `path:"type"`
			Name string `path:"name"`
			PageInput
		}) (*listOutput[domain.Resource], error) {
			if err := checkPath("type", in.Type, "name", in.Name); err != nil {
				return nil, err
			}
			views, next, err := s.q.ResourceVersions(ctx, in.Type, in.Name, in.page())
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			if len(views) == 0 && in.Continue == "" {
				return nil, huma.Error404NotFound(fmt.Sprintf("resource %q not found", domain.ResourceKey(in.Type, in.Name)))
			}
			return mapList(views, next, resourceOf), nil
		})

	huma.Register(s.api, s.op(http.MethodGet, "/resources/{type}/{name}/{version}", "get-resource-version", "One version of a resource",
		"The resource as it was at one version.", tag),
		func(ctx context.Context, in *struct {
			Type    string `path:"type"`
			Name    string `path:"name"`
			Version int    `path:"version" minimum:"1"`
		}) (*resourceOutput, error) {
			if err := checkPath("type", in.Type, "name", in.Name); err != nil {
				return nil, err
			}
			v, err := s.q.ResourceVersion(ctx, in.Type, in.Name, in.Version)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &resourceOutput{ETag: etag(v.Version()), Body: v.Resource}, nil
		})
}

func written(status int, message, runID string, r domain.Resource) *writeOutput {
	return &writeOutput{Status: status, ETag: etag(r.Version()), Body: writeResult{
		Name: r.Name, RunID: runID, Version: r.Version(), Message: message, Resource: r}}
}

// resource is the replacement with the version it expects: If-Match wins
// over the body's metadata.version; both absent means no guard.
func (in *replaceResourceInput) resource() (domain.Resource, int, error) {
	for field, value := range map[string]string{"name": in.Body.Name, "resource": in.Body.Type} {
		path := map[string]string{"name": in.Name, "resource": in.Type}[field]
		if value != "" && value != path {
			return domain.Resource{}, 0, huma.Error422UnprocessableEntity("the body differs from the path",
				&huma.ErrorDetail{Location: "body." + field, Message: "must equal the path's " + path, Value: value})
		}
	}
	r, err := resourceBody{Name: in.Name, Type: in.Type, ResourceFields: in.Body.ResourceFields}.resource()
	if err != nil {
		return domain.Resource{}, 0, huma.Error422UnprocessableEntity(err.Error())
	}
	guard, where := strings.Trim(strings.TrimPrefix(in.IfMatch, "W/"), `"`), "header.If-Match"
	if guard == "" {
		guard, where = in.Body.Metadata[domain.MetaVersion], "body.metadata.version"
	}
	if guard == "" || guard == "*" {
		return r, 0, nil
	}
	expected, err := strconv.Atoi(guard)
	if err != nil || expected < 1 {
		return domain.Resource{}, 0, huma.Error422UnprocessableEntity("the expected version must be a positive integer",
			&huma.ErrorDetail{Location: where, Message: "must be a positive integer", Value: guard})
	}
	return r, expected, nil
}

// checkPath answers 422 when a name in the path breaks the name rule.
func checkPath(fieldsAndNames ...string) error {
	var details []error
	for i := 0; i+1 < len(fieldsAndNames); i += 2 {
		if !domain.ValidName(fieldsAndNames[i+1]) {
			details = append(details, &huma.ErrorDetail{Location: "path." + fieldsAndNames[i], Message: domain.NameRule, Value: fieldsAndNames[i+1]})
		}
	}
	if len(details) > 0 {
		return huma.Error422UnprocessableEntity("invalid name: "+domain.NameRule, details...)
	}
	return nil
}
