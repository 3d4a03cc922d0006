package api

import (
	"context"
	"net/http"

	"github.com/conveyor/conveyor/commands"
	"github.com/danielgtaylor/huma/v2"
)

type decideStepInput struct {
	ID   string `path:"id" doc:"the Run ID"`
	Step string `path:"step" doc:"the id of a step of type approval that waits for a decision"`
	Body *struct {
		_       struct{} `json:"-" additionalProperties:"true"`
		Comment string   `json:"comment,omitempty" maxLength:"4096" doc:"why, for the run's history" example:"staging looks good"`
	} `required:"false"`
}

// registerApprovals serves the decisions on approval steps.
func (s *Server) registerApprovals() {
	const tag = "runs"
	for _, d := range []struct {
		verb, id, summary, desc string
		approve                 bool
	}{
		{"approve", "approve-step", "Approve a waiting approval step: the run goes on",
			"Records that the caller approved the step (with an optional comment); the steps that need it run. A step that does not wait for a decision is a 409; a step that is no approval step is a 422.", true},
		{"reject", "reject-step", "Reject a waiting approval step: what needs it is skipped",
			"Records that the caller rejected the step (with an optional comment): the step fails, the steps that need it are skipped, and the run fails once its other branches end. A step that does not wait for a decision is a 409; a step that is no approval step is a 422.", false},
	} {
		huma.Register(s.api, s.op(http.MethodPost, "/runs/{id}/steps/{step}/"+d.verb, d.id, d.summary, d.desc, tag),
			func(ctx context.Context, in *decideStepInput) (*runOutput, error) {
				c := commands.DecideStep{RunID: in.ID, Step: in.Step, Approve: d.approve}
				if in.Body != nil {
					c.Comment = in.Body.Comment
				}
				run, err := s.cmd.DecideStep(ctx, c)
				if err != nil {
					return nil, s.problem(ctx, err)
				}
				return &runOutput{Body: run}, nil
			})
	}
}
