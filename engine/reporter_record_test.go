package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/engine"
)

// TestReporterRecordsWhatItGivesUp: each status given up is recorded, with
// the status, the host's answer (without the token, however the host
// echoes it), the attempts and the run event it was for; a redelivered
// event given up again asks for the same record, which the log keeps once
// (TestStatusReportFailedIsRecordedOnce); a record that fails makes the
// event come again.
func TestReporterRecordsWhatItGivesUp(t *testing.T) {
	failed := &domain.RunFailed{Meta: domain.Meta{ID: "e1", Type: domain.TypeRunFailed, Aggregate: domain.AggregateRun, AggregateID: "r1", Sequence: 10}}
	refused := fmt.Errorf("%w: 401 Unauthorized: {\"message\":\"Bad credentials: t0ken\"}", engine.ErrStatusRefused)
	away := errors.New("connection refused")
	for _, tc := range []struct {
		name     string
		answers  []error
		attempts int
		message  string
	}{
		{"a host that refuses", []error{refused}, 1, "Bad credentials: [token]"},
		{"a host away", []error{away, away, away, away, away}, engine.ReportAttempts, "connection refused"},
	} {
		var recorded []commands.RecordStatusReportFailed
		gaveUp := 0
		r := reporter(&posts{answers: append(tc.answers, tc.answers...)}, true, &gaveUp)
		r.Record = func(ctx context.Context, c commands.RecordStatusReportFailed) error {
			if a := commands.ActorOf(ctx); a == nil || *a != engine.ReporterActor {
				t.Errorf("%s: recorded as %v, want %v", tc.name, a, engine.ReporterActor)
			}
			recorded = append(recorded, c)
			return nil
		}
		for range 2 { // the event, then the same event again
			if err := r.Handle(context.Background(), []domain.Event{failed}); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		}
		if len(recorded) != 2 || recorded[0] != recorded[1] {
			t.Fatalf("%s: recorded %+v, want the same record twice", tc.name, recorded)
		}
		c := recorded[0]
		if c.RunID != "r1" || c.Status != domain.StatusFailure || c.Attempts != tc.attempts || c.Cause != "e1" ||
			!strings.Contains(c.Message, tc.message) || strings.Contains(c.Message, "t0ken") {
			t.Errorf("%s: recorded %+v; want run r1, failure, %d attempts, cause e1, a message with %q and no token", tc.name, c, tc.attempts, tc.message)
		}
	}

	r := reporter(&posts{answers: []error{refused}}, true, new(int))
	r.Record = func(context.Context, commands.RecordStatusReportFailed) error { return domain.ErrUnavailable }
	if err := r.Handle(context.Background(), []domain.Event{failed}); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("a record that fails: %v, want the event to come again", err)
	}
}
