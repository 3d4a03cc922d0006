package api

import (
	"context"
	"net/http"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/danielgtaylor/huma/v2"
)

type driversOutput struct {
	Body struct {
		Items []projections.DriverView `json:"items"`
	}
}

type driverPath struct {
	Name string `path:"name" doc:"the driver's name"`
}

type driverOutput struct {
	Body projections.DriverView
}

// registerDriverDirectory serves what the server knows of drivers, when it
// has a directory.
func (s *Server) registerDriverDirectory() {
	if s.drivers == nil {
		return
	}
	const tag = "drivers"
	huma.Register(s.api, s.op(http.MethodGet, "/drivers", "list-drivers", "List the drivers: connected instances and their work",
		"Every driver that has announced itself to this server since it started (drivers built on the SDK do, every 5 seconds) or has a consumer on `messages` (every driver that ever connected, those of the original runtime too): its resource types, its instances connected now, whether any is connected, and its work not yet delivered (`pending`) and delivered but not acknowledged (`inFlight`).", tag),
		func(ctx context.Context, _ *struct{}) (*driversOutput, error) {
			views, err := s.drivers.Drivers(ctx)
			if err != nil {
				return nil, huma.Error503ServiceUnavailable("reading the drivers failed: " + err.Error())
			}
			out := &driversOutput{}
			out.Body.Items = views
			return out, nil
		})
	huma.Register(s.api, s.op(http.MethodGet, "/drivers/{name}", "get-driver", "Read one driver",
		"One driver as GET /drivers shows it; 404 when it never announced itself to this server and has no consumer.", tag),
		func(ctx context.Context, in *driverPath) (*driverOutput, error) {
			v, seen, err := s.drivers.Driver(ctx, in.Name)
			if err != nil {
				return nil, huma.Error503ServiceUnavailable("reading the driver failed: " + err.Error())
			}
			if !seen {
				return nil, s.problem(ctx, domain.NotFound("driver "+quote(in.Name)))
			}
			return &driverOutput{Body: v}, nil
		})
}

// unseenDrivers are the warnings for the steps of p whose drivers were never
// seen: most likely a typo, and a run would wait for them forever.
func (s *Server) unseenDrivers(ctx context.Context, p domain.Pipeline) []string {
	if s.drivers == nil {
		return nil
	}
	var warnings []string
	for _, st := range p.Steps {
		if st.Driver != "" && !s.drivers.Seen(ctx, st.Driver) {
			warnings = append(warnings, "step "+st.ID+": driver "+quote(st.Driver)+" has never connected (its runs wait until it does)")
		}
	}
	return warnings
}

// withWaiting says, on each dispatched step of run, when no instance of its
// driver (with the labels of its runsOn) is connected, and where a queued
// run stands in its group's queue (the groups read for one answer are kept
// in seen).
func (s *Server) withWaiting(ctx context.Context, run domain.Run, seen groups) domain.Run {
	run = s.withPosition(ctx, run, seen)
	if s.drivers == nil || run.Ended() {
		return run
	}
	steps := append([]domain.StepState(nil), run.Steps...)
	for i, st := range steps {
		if st.Status != domain.StepStatusDispatched || st.Driver == "" {
			continue
		}
		labels := run.RunsOn(st.ID)
		switch {
		case s.drivers.Connected(ctx, st.Driver, labels):
		case len(labels) > 0:
			steps[i].Waiting = "no instance of driver " + quote(st.Driver) + " with labels " + domain.DescribeLabels(labels) + " is connected"
		default:
			steps[i].Waiting = "no instance of driver " + quote(st.Driver) + " is connected"
		}
	}
	run.Steps = steps
	return run
}

func quote(s string) string { return `"` + s + `"` }
