package commands

import (
	"context"
	"errors"

	"github.com/conveyor/conveyor/domain"
)

// RecordStatusReportFailed is a commit status of run RunID that was given
// up: Status (pending, success, failure or error) was sent Attempts times
// for the run event Cause (its id), and the git host answered Message.
type RecordStatusReportFailed struct {
	RunID    string
	Trigger  string
	Status   string
	Message  string
	Attempts int
	Cause    string
}

// RecordStatusReportFailed appends StatusReportFailed to the run's report
// aggregate (report/{RunID}), which nothing else writes: never to the
// run's own stream, so that it cannot make one of the engine's appends to
// the run lose its race. Idempotent: the event's id is derived from the
// run, the cause and the status, so a give-up recorded before (a
// redelivery) writes nothing, inside JetStream's duplicate window (the
// message id) and after it (the aggregate holds that id). Message should
// hold no secret; it is cut to domain.MaxReportMessage bytes.
func (h *Handler) RecordStatusReportFailed(ctx context.Context, c RecordStatusReportFailed) error {
	cause := domain.Cause{EventID: domain.StatusReportFailedID(c.RunID, c.Cause, c.Status), Time: h.now(),
		CorrelationID: c.RunID, CausationID: c.Cause}
	f := domain.StatusReportFailed{Trigger: c.Trigger, Status: c.Status, Message: c.Message, Attempts: c.Attempts}
	for try := 1; ; try++ {
		var agg domain.ReportAggregate
		l, err := h.load(ctx, domain.AggregateReport, c.RunID, &agg)
		if err != nil {
			return err
		}
		recorded, err := agg.Fail(c.RunID, f, cause)
		if err != nil || !recorded {
			return err
		}
		// A conflict: another server recorded a failure of this run
		// meanwhile, this one (then the aggregate holds it now) or another.
		if err = h.save(ctx, l, &agg); !errors.Is(err, domain.ErrConflict) || try == reportTries {
			return err
		}
	}
}

// reportTries bounds the loads of a run's report aggregate when appends
// to it race.
const reportTries = 3
