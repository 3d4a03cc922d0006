package api

import (
	"context"
	"net/http"

	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
)

// TriggerDeliveries are a trigger's latest deliveries.
type TriggerDeliveries struct {
	Items []projections.Delivery `json:"items" doc:"the deliveries the trigger took (it wrote their resource), newest first, at most 50"`
}

type triggerDeliveriesOutput struct{ Body TriggerDeliveries }

// registerTriggerDeliveries serves GET /triggers/{name}/deliveries.
func (s *Server) registerTriggerDeliveries() {
	huma.Register(s.api, s.op(http.MethodGet, "/triggers/{name}/deliveries", "list-trigger-deliveries", "List a trigger's recent deliveries",
		"The latest 50 deliveries the trigger took, newest first: when, the event and delivery id, the commit and ref, the "+
			"resource written and the run it started. A delivery the trigger did not take (a 202: an event it does not take, "+
			"a false condition), a ping, and one refused (401, 400) write nothing, and are not listed: the git host's own list "+
			"of recent deliveries shows Conveyor's answer to each.", "triggers"),
		func(ctx context.Context, in *nameInput) (*triggerDeliveriesOutput, error) {
			if err := checkPath("name", in.Name); err != nil {
				return nil, err
			}
			if _, err := s.q.Trigger(ctx, in.Name); err != nil {
				return nil, s.problem(ctx, err)
			}
			items, err := s.q.Deliveries(ctx, in.Name)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &triggerDeliveriesOutput{Body: TriggerDeliveries{Items: items}}, nil
		})
}
