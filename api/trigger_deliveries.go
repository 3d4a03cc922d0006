package api

import (
	"context"
	"net/http"
	"slices"

	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
)

// TriggerDeliveries are a trigger's latest deliveries.
type TriggerDeliveries struct {
	Items []TriggerDelivery `json:"items" doc:"the trigger's latest deliveries, newest first: the 50 latest that wrote their resource (kept: log), and the 50 latest this replica answered that wrote nothing (kept: memory)"`
}

// TriggerDelivery is one delivery to a trigger and the answer it got.
type TriggerDelivery struct {
	projections.Delivery
	Status int    `json:"status" doc:"the answer's HTTP status: 201 fired; 200 a ping; 202 not taken; 400, 401, 413, 415, 422 refused; 409, 503 to be sent again" example:"201"`
	Reason string `json:"reason,omitempty" doc:"why it wrote nothing: the answer's reason or detail" example:"trigger \"app-push\" does not take \"pull_request\" events (it takes [push])"`
	Kept   string `json:"kept" enum:"log,memory" doc:"log: it wrote its resource, and TriggerFired keeps it for good; memory: it wrote nothing, and only the memory of the replica that answered keeps it, until that replica restarts" example:"log"`
}

type triggerDeliveriesOutput struct{ Body TriggerDeliveries }

// registerTriggerDeliveries serves GET /triggers/{name}/deliveries.
func (s *Server) registerTriggerDeliveries() {
	huma.Register(s.api, s.op(http.MethodGet, "/triggers/{name}/deliveries", "list-trigger-deliveries", "List a trigger's recent deliveries",
		"The trigger's latest deliveries, newest first, each with its answer: when, the event and delivery id, the answer's status "+
			"and reason, and for those that wrote their resource (201, kept in the log: the latest 50) the commit and ref, the "+
			"resource written and the run it started. Deliveries that wrote nothing (a ping, an event the trigger does not take, "+
			"one refused: 400, 401, 413, 415, 422) write nothing to the log by design; the replica that answered keeps the latest "+
			"50 of them in memory (kept: memory), so another replica does not list them and a restart forgets them.", "triggers"),
		func(ctx context.Context, in *nameInput) (*triggerDeliveriesOutput, error) {
			if err := checkPath("name", in.Name); err != nil {
				return nil, err
			}
			if _, err := s.q.Trigger(ctx, in.Name); err != nil {
				return nil, s.problem(ctx, err)
			}
			fired, err := s.q.Deliveries(ctx, in.Name)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &triggerDeliveriesOutput{Body: TriggerDeliveries{Items: mergeDeliveries(in.Name, fired, s.hookMemory.recent(in.Name))}}, nil
		})
}

// mergeDeliveries are the deliveries of trigger that fired and those
// remembered, each newest first, as one list, newest first.
func mergeDeliveries(trigger string, fired []projections.Delivery, remembered []rememberedDelivery) []TriggerDelivery {
	out := make([]TriggerDelivery, 0, len(fired)+len(remembered))
	for _, d := range fired {
		out = append(out, TriggerDelivery{Delivery: d, Status: http.StatusCreated, Kept: keptLog})
	}
	for _, d := range remembered {
		out = append(out, TriggerDelivery{Delivery: projections.Delivery{Trigger: trigger, Event: d.Event, Delivery: d.Delivery, Time: d.Time},
			Status: d.Status, Reason: d.Reason, Kept: keptMemory})
	}
	slices.SortStableFunc(out, func(a, b TriggerDelivery) int { return b.Time.Compare(a.Time) })
	return out
}
