package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
)

// DefinitionFields are the fields of a resource definition as clients send
// it, but its name. It is exported because huma documents the fields of
// embedded structs only when they are.
type DefinitionFields struct {
	ID          string          `json:"id,omitempty" doc:"ignored: the server assigns the id"`
	Description string          `json:"description,omitempty" example:"A build of a Git repository at a ref"`
	Version     string          `json:"version,omitempty" example:"1.0.0"`
	Schema      json.RawMessage `json:"schema" doc:"JSON Schema (draft 2020-12 unless $schema says otherwise) of the spec of resources of this kind" example:"{\"type\":\"object\",\"required\":[\"repo\",\"ref\"],\"properties\":{\"repo\":{\"type\":\"string\"},\"ref\":{\"type\":\"string\"}}}"`
	// FormatAssertion turns the schema's format keywords from annotations
	// into assertions.
	FormatAssertion bool `json:"formatAssertion,omitempty" doc:"refuse specs whose strings break the schema's format keywords (email, date-time, uuid, …); without it, format is an annotation only and such specs are accepted"`
}

// definitionBody is a resource definition as clients create it.
type definitionBody struct {
	_    struct{} `json:"-" additionalProperties:"true"`
	Name string   `json:"name" required:"true" pattern:"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$" patternDescription:"must be 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" doc:"the definition's name, which resources name as their type" example:"build"`
	DefinitionFields
}

// definitionReplacement is a resource definition as clients replace it:
// the path names it.
type definitionReplacement struct {
	_    struct{} `json:"-" additionalProperties:"true"`
	Name string   `json:"name,omitempty" pattern:"^([a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)?$" patternDescription:"must be empty or 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" doc:"optional: when given, it must equal the path's name" example:"build"`
	DefinitionFields
}

func (b definitionBody) definition() domain.ResourceDefinition {
	return domain.ResourceDefinition{Name: b.Name, Description: b.Description, Version: b.Version, Schema: b.Schema,
		FormatAssertion: b.FormatAssertion}
}

type definitionInput struct {
	Body definitionBody
}

type namedDefinitionInput struct {
	Name string `path:"name"`
	Body definitionReplacement
}

type nameInput struct {
	Name string `path:"name"`
}

type definitionOutput struct {
	Status int
	// Unchanged is "true" when the save changed nothing.
	Unchanged string `header:"Conveyor-Unchanged" doc:"true when the definition was already so: nothing was written"`
	Body      domain.ResourceDefinition
}

func definitionOf(v projections.DefinitionView) domain.ResourceDefinition {
	return v.ResourceDefinition
}

func (s *Server) registerDefinitions() {
	const tag = "resource definitions"
	save := func(mode commands.DefinitionMode, status int) func(context.Context, *definitionInput) (*definitionOutput, error) {
		return func(ctx context.Context, in *definitionInput) (*definitionOutput, error) {
			def, changed, err := s.cmd.SaveDefinition(ctx, commands.SaveDefinition{Definition: in.Body.definition()}, mode)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &definitionOutput{Status: status, Body: def, Unchanged: unchanged(changed)}, nil
		}
	}
	create := s.op(http.MethodPost, "/resource-definitions", "create-resource-definition", "Create a resource definition (409 if it exists)",
		"Registers a new kind of resource: its name and the JSON Schema every spec of it must satisfy. The schema must compile; `formatAssertion` makes its `format` keywords assertions. A definition of the same name is a 409; `POST /resource-definitions/apply` creates or updates instead.", tag)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, save(commands.CreateOnly, http.StatusCreated))
	huma.Register(s.api, s.op(http.MethodPost, "/resource-definitions/apply", "apply-resource-definition", "Create or update a resource definition",
		"Creates the definition, or replaces the description, version, schema and format assertion of the one of that name. Resources already stored are not validated again.", tag),
		save(commands.CreateOrUpdate, http.StatusOK))

	huma.Register(s.api, s.op(http.MethodPut, "/resource-definitions/{name}", "replace-resource-definition", "Replace a resource definition",
		"Replaces the definition named in the path (404 if it does not exist). The body's name, when given, must equal the path's. Resources already stored are not validated again.", tag),
		func(ctx context.Context, in *namedDefinitionInput) (*definitionOutput, error) {
			if in.Body.Name != "" && in.Body.Name != in.Name {
				return nil, huma.Error422UnprocessableEntity("the name in the body differs from the name in the path",
					&huma.ErrorDetail{Location: "body.name", Message: "must equal the path's name " + in.Name, Value: in.Body.Name})
			}
			return save(commands.UpdateOnly, http.StatusOK)(ctx, &definitionInput{Body: definitionBody{Name: in.Name, DefinitionFields: in.Body.DefinitionFields}})
		})

	huma.Register(s.api, s.op(http.MethodGet, "/resource-definitions", "list-resource-definitions", "List resource definitions",
		"The definitions in name order, a page at a time: pass the answer's `continue` as `?continue=` for the next page.", tag),
		func(ctx context.Context, in *PageInput) (*listOutput[domain.ResourceDefinition], error) {
			views, next, err := s.q.Definitions(ctx, in.page())
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return mapList(views, next, definitionOf), nil
		})

	huma.Register(s.api, s.op(http.MethodGet, "/resource-definitions/{name}", "get-resource-definition", "Read a resource definition",
		"The definition as last stored.", tag),
		func(ctx context.Context, in *nameInput) (*definitionOutput, error) {
			if err := checkPath("name", in.Name); err != nil {
				return nil, err
			}
			v, err := s.q.Definition(ctx, in.Name)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &definitionOutput{Status: http.StatusOK, Body: v.ResourceDefinition}, nil
		})

	del := s.op(http.MethodDelete, "/resource-definitions/{name}", "delete-resource-definition", "Delete a resource definition (409 while resources of it exist)",
		"Removes the definition. While resources of it exist, the answer is 409 and nothing changes.", tag)
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, func(ctx context.Context, in *nameInput) (*struct{}, error) {
		if err := s.cmd.DeleteDefinition(ctx, commands.DeleteDefinition{Name: in.Name}); err != nil {
			return nil, s.problem(ctx, err)
		}
		return nil, nil
	})
}

// unchanged is the Conveyor-Unchanged header of a save: "true" when it
// changed nothing, else absent.
func unchanged(changed bool) string {
	if changed {
		return ""
	}
	return "true"
}
