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

// definitionBody is a resource definition as clients send it.
type definitionBody struct {
	_           struct{}        `json:"-" additionalProperties:"true"`
	ID          string          `json:"id,omitempty" doc:"ignored: the server assigns the id"`
	Name        string          `json:"name,omitempty" doc:"lower-case letters, digits, '-' and '_'; 1 to 63 characters" example:"build"`
	Description string          `json:"description,omitempty"`
	Version     string          `json:"version,omitempty" example:"1.0.0"`
	Schema      json.RawMessage `json:"schema" doc:"JSON Schema (draft 2020-12 unless $schema says otherwise) of the spec of resources of this kind"`
	// FormatAssertion turns the schema's format keywords from annotations
	// into assertions.
	FormatAssertion bool `json:"formatAssertion,omitempty" doc:"refuse specs whose strings break the schema's format keywords (email, date-time, uuid, …); without it, format is an annotation only and such specs are accepted"`
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
	Body definitionBody
}

type nameInput struct {
	Name string `path:"name"`
}

type definitionOutput struct {
	Status int
	Body   domain.ResourceDefinition
}

func definitionOf(v projections.DefinitionView) domain.ResourceDefinition {
	return v.ResourceDefinition
}

func (s *Server) registerDefinitions() {
	const tag = "resource definitions"
	save := func(mode commands.DefinitionMode, status int) func(context.Context, *definitionInput) (*definitionOutput, error) {
		return func(ctx context.Context, in *definitionInput) (*definitionOutput, error) {
			def, err := s.cmd.SaveDefinition(ctx, commands.SaveDefinition{Definition: in.Body.definition()}, mode)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &definitionOutput{Status: status, Body: def}, nil
		}
	}
	create := s.op(http.MethodPost, "/resource-definitions", "create-resource-definition", "Create a resource definition (409 if it exists)", tag)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, save(commands.CreateOnly, http.StatusCreated))
	huma.Register(s.api, s.op(http.MethodPost, "/resource-definitions/apply", "apply-resource-definition", "Create or update a resource definition", tag),
		save(commands.CreateOrUpdate, http.StatusOK))

	huma.Register(s.api, s.op(http.MethodPut, "/resource-definitions/{name}", "replace-resource-definition", "Replace a resource definition", tag),
		func(ctx context.Context, in *namedDefinitionInput) (*definitionOutput, error) {
			if in.Body.Name != "" && in.Body.Name != in.Name {
				return nil, huma.Error422UnprocessableEntity("the name in the body differs from the name in the path",
					&huma.ErrorDetail{Location: "body.name", Message: "must equal the path's name " + in.Name, Value: in.Body.Name})
			}
			in.Body.Name = in.Name
			return save(commands.UpdateOnly, http.StatusOK)(ctx, &definitionInput{Body: in.Body})
		})

	huma.Register(s.api, s.op(http.MethodGet, "/resource-definitions", "list-resource-definitions", "List resource definitions", tag),
		func(ctx context.Context, in *PageInput) (*listOutput[domain.ResourceDefinition], error) {
			views, next, err := s.q.Definitions(ctx, in.page())
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return mapList(views, next, definitionOf), nil
		})

	huma.Register(s.api, s.op(http.MethodGet, "/resource-definitions/{name}", "get-resource-definition", "Read a resource definition", tag),
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

	del := s.op(http.MethodDelete, "/resource-definitions/{name}", "delete-resource-definition", "Delete a resource definition (409 while resources of it exist)", tag)
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, func(ctx context.Context, in *nameInput) (*struct{}, error) {
		if err := s.cmd.DeleteDefinition(ctx, commands.DeleteDefinition{Name: in.Name}); err != nil {
			return nil, s.problem(ctx, err)
		}
		return nil, nil
	})
}
