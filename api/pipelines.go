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

type stepBody struct {
	_           struct{}             `json:"-" additionalProperties:"true"`
	ID          string               `json:"id,omitempty" pattern:"^([a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)?$" patternDescription:"must be empty or 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" doc:"unique within the pipeline; absent: the driver's name, with -2, -3… when taken" example:"compile"`
	Name        string               `json:"name,omitempty" example:"Compile"`
	Type        string               `json:"type,omitempty" enum:"approval" doc:"absent: the step runs its driver; approval: the step runs no driver and waits for POST /runs/{id}/steps/{step}/approve or /reject"`
	Driver      string               `json:"driver,omitempty" pattern:"^([a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)?$" patternDescription:"must be empty or 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" doc:"the driver that runs this step; required unless type is approval" example:"compiler"`
	Needs       []string             `json:"needs,omitempty" maxItems:"256" doc:"ids of the steps that must succeed before this one runs; absent: the step before it; []: none, the step starts with the run" example:"[\"compile\"]"`
	Timeout     string               `json:"timeout,omitempty" maxLength:"32" doc:"bounds each attempt, a Go duration such as 90s or 10m: an attempt with no result by then times out" example:"10m"`
	Retry       *retryBody           `json:"retry,omitempty" doc:"when and how often to try the step again"`
	When        string               `json:"when,omitempty" maxLength:"4096" doc:"a CEL condition over resource, pipeline, run and the results of the steps this one needs: the step runs only if it is true when its needs are met, and is skipped otherwise" example:"resource.spec.ref == \"main\""`
	Secrets     []string             `json:"secrets,omitempty" maxItems:"64" doc:"names of the secrets the step's driver gets while it runs this step (PUT /secrets/{name})" example:"[\"registry-password\"]"`
	RunsOn      []string             `json:"runsOn,omitempty" doc:"labels, at most 4, each 1 to 32 characters of lower-case letters, digits, '-' and '_': only a process of the driver that has every one of them takes the step (conveyor driver exec --labels); absent: any process of the driver" example:"[\"gpu\"]"`
	Matrix      map[string]any       `json:"matrix,omitempty" doc:"run the step once per combination of these values: each key but include and exclude names a list of strings, numbers or booleans; include lists extra combinations (objects), exclude partial combinations to drop. At most 256 combinations. Each instance is a step of the run, id step[key=value,…], and its expressions see its values as matrix.<key>" example:"{\"go\":[\"1.25\",\"1.26\"],\"os\":[\"linux\",\"darwin\"]}"`
	FailFast    *bool                `json:"failFast,omitempty" doc:"with a matrix: once an instance has failed, skip the instances not yet started (default true)"`
	MaxParallel int                  `json:"maxParallel,omitempty" minimum:"0" doc:"with a matrix: at most this many instances dispatched at once (absent or 0: no bound)" example:"2"`
	With        map[string]any       `json:"with,omitempty" doc:"parameters handed to the driver with the work, at most 16 KiB as JSON; a string may hold ${{ EXPR }}, a CEL expression over what a condition sees, evaluated at dispatch: a string that is one expression alone takes its value, an expression within a longer string is written into it" example:"{\"image\":\"registry.example/${{ resource.name }}:${{ resource.spec.ref }}\",\"push\":true}"`
	Concurrency *stepConcurrencyBody `json:"concurrency,omitempty" doc:"the step takes a place in this concurrency group before it is dispatched and holds it until it ends, its retries included (docs/pipelines.md, Concurrency)"`
}

type retryBody struct {
	_          struct{} `json:"-" additionalProperties:"true"`
	Attempts   int      `json:"attempts" minimum:"1" maximum:"100" doc:"tries in all, the first included" example:"3"`
	Backoff    string   `json:"backoff,omitempty" maxLength:"32" doc:"wait before the second try (default 10s), doubled before each further one; each wait is drawn between half and all of it" example:"10s"`
	MaxBackoff string   `json:"maxBackoff,omitempty" maxLength:"32" doc:"the longest wait (default 5m)" example:"2m"`
	On         []string `json:"on,omitempty" enum:"failure,timeout" doc:"what is retried: failure (a failed result), timeout (no result or no heartbeat in time); absent: both"`
}

func (r *retryBody) policy() *domain.RetryPolicy {
	if r == nil {
		return nil
	}
	return &domain.RetryPolicy{Attempts: r.Attempts, Backoff: r.Backoff, MaxBackoff: r.MaxBackoff, On: r.On}
}

// PipelineFields are the fields of a pipeline as clients send it, but its
// name. It is exported because huma documents the fields of embedded
// structs only when they are.
type PipelineFields struct {
	Description string            `json:"description,omitempty" example:"Compile, then upload"`
	Version     string            `json:"version,omitempty" doc:"ignored: the server counts versions"`
	Resource    string            `json:"resource" pattern:"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$" patternDescription:"must be 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" doc:"the resource definition this pipeline runs over" example:"build"`
	Steps       []stepBody        `json:"steps" doc:"the steps; each runs once the steps it needs have succeeded (by default the one before it), and steps whose needs are met run side by side"`
	Metadata    map[string]string `json:"metadata,omitempty" doc:"shared by every step" example:"{\"registry\":\"registry.example\"}"`
	Timeout     string            `json:"timeout,omitempty" maxLength:"32" doc:"bounds a whole run, a Go duration such as 1h: a run still going by then fails" example:"1h"`
	Concurrency *concurrencyBody  `json:"concurrency,omitempty" doc:"bounds the runs of a group that go on at once (docs/pipelines.md, Concurrency)"`
}

// pipelineBody is a pipeline as clients create it.
type pipelineBody struct {
	_    struct{} `json:"-" additionalProperties:"true"`
	Name string   `json:"name" required:"true" pattern:"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$" patternDescription:"must be 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" example:"ci"`
	PipelineFields
}

// pipelineReplacement is a pipeline as clients replace it: the path names
// it.
type pipelineReplacement struct {
	_    struct{} `json:"-" additionalProperties:"true"`
	Name string   `json:"name,omitempty" pattern:"^([a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?)?$" patternDescription:"must be empty or 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit" maxLength:"63" doc:"optional: when given, it must equal the path's name" example:"ci"`
	PipelineFields
}

func (b pipelineBody) pipeline() domain.Pipeline {
	steps := make([]domain.Step, len(b.Steps))
	for i, st := range b.Steps {
		steps[i] = domain.Step{ID: st.ID, Name: st.Name, Type: st.Type, Driver: st.Driver, Needs: st.Needs, Timeout: st.Timeout, Retry: st.Retry.policy(), When: st.When, Secrets: st.Secrets, RunsOn: st.RunsOn}
		if st.With != nil {
			steps[i].With, _ = json.Marshal(st.With) // decoded from JSON: it encodes
		}
		if st.Matrix != nil {
			steps[i].Matrix = make(domain.Matrix, len(st.Matrix))
			for k, v := range st.Matrix {
				steps[i].Matrix[k], _ = json.Marshal(v)
			}
		}
		steps[i].FailFast, steps[i].MaxParallel = st.FailFast, st.MaxParallel
		steps[i].Concurrency = st.Concurrency.concurrency()
	}
	return domain.Pipeline{Name: b.Name, Description: b.Description, Resource: b.Resource, Steps: steps, Metadata: b.Metadata,
		Timeout: b.Timeout, Concurrency: b.Concurrency.concurrency()}.WithStepIDs()
}

type pipelineInput struct {
	Body pipelineBody
}

type namedPipelineInput struct {
	Name string `path:"name"`
	Body pipelineReplacement
}

type pipelineOutput struct {
	Status int
	Body   domain.Pipeline
}

func pipelineOf(v projections.PipelineView) domain.Pipeline { return v.Pipeline }

func (s *Server) registerPipelines() {
	const tag = "pipelines"
	save := func(mode commands.DefinitionMode, status int) func(context.Context, *pipelineInput) (*savedPipelineOutput, error) {
		return func(ctx context.Context, in *pipelineInput) (*savedPipelineOutput, error) {
			p, changed, err := s.cmd.SavePipeline(ctx, commands.SavePipeline{Pipeline: in.Body.pipeline()}, mode)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			warnings := s.unseenDrivers(ctx, p)
			return &savedPipelineOutput{Status: status, Body: savedPipeline{Pipeline: p, Warnings: warnings},
				Warning: warningHeader(warnings), Unchanged: unchanged(changed)}, nil
		}
	}
	create := s.op(http.MethodPost, "/pipelines", "create-pipeline", "Create a pipeline (409 if it exists)",
		"Registers a pipeline: ordered steps over one resource definition, each naming a driver. The steps are checked: at least one, unique ids, valid driver names. A pipeline of the same name is a 409.", tag)
	create.DefaultStatus = http.StatusCreated
	huma.Register(s.api, create, save(commands.CreateOnly, http.StatusCreated))
	huma.Register(s.api, s.op(http.MethodPost, "/pipelines/apply", "apply-pipeline", "Create or update a pipeline",
		"Creates the pipeline or replaces the one of that name. Runs already started keep the pipeline as it was.", tag),
		save(commands.CreateOrUpdate, http.StatusOK))

	huma.Register(s.api, s.op(http.MethodPut, "/pipelines/{name}", "replace-pipeline", "Replace a pipeline; runs already started keep the old one",
		"Replaces the pipeline named in the path (404 if it does not exist). The body's name, when given, must equal the path's.", tag),
		func(ctx context.Context, in *namedPipelineInput) (*savedPipelineOutput, error) {
			if in.Body.Name != "" && in.Body.Name != in.Name {
				return nil, huma.Error422UnprocessableEntity("the name in the body differs from the name in the path",
					&huma.ErrorDetail{Location: "body.name", Message: "must equal the path's name " + in.Name, Value: in.Body.Name})
			}
			return save(commands.UpdateOnly, http.StatusOK)(ctx, &pipelineInput{Body: pipelineBody{Name: in.Name, PipelineFields: in.Body.PipelineFields}})
		})

	huma.Register(s.api, s.op(http.MethodGet, "/pipelines", "list-pipelines", "List pipelines",
		"Pipelines in name order, a page at a time.", tag),
		func(ctx context.Context, in *PageInput) (*listOutput[domain.Pipeline], error) {
			views, next, err := s.q.Pipelines(ctx, in.page())
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return mapList(views, next, pipelineOf), nil
		})

	huma.Register(s.api, s.op(http.MethodGet, "/pipelines/{name}", "get-pipeline", "Read a pipeline",
		"The pipeline as last stored.", tag),
		func(ctx context.Context, in *nameInput) (*pipelineOutput, error) {
			if err := checkPath("name", in.Name); err != nil {
				return nil, err
			}
			v, err := s.q.Pipeline(ctx, in.Name)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &pipelineOutput{Status: http.StatusOK, Body: v.Pipeline}, nil
		})

	del := s.op(http.MethodDelete, "/pipelines/{name}", "delete-pipeline", "Delete a pipeline",
		"Removes the pipeline. Runs already started hold the pipeline as it was when they started.", tag)
	del.DefaultStatus = http.StatusNoContent
	huma.Register(s.api, del, func(ctx context.Context, in *nameInput) (*struct{}, error) {
		if err := s.cmd.DeletePipeline(ctx, commands.DeletePipeline{Name: in.Name}); err != nil {
			return nil, s.problem(ctx, err)
		}
		return nil, nil
	})
}
