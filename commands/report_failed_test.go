package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/embedtest"
	"github.com/conveyor/conveyor/adapters/eventstore"
	"github.com/conveyor/conveyor/adapters/schema"
	"github.com/conveyor/conveyor/commands"
	"github.com/conveyor/conveyor/domain"
	"github.com/google/uuid"
)

// TestStatusReportFailedIsRecordedOnce: a status given up is recorded on
// the run's report aggregate, never on the run's stream; given up again
// for the same run event (a redelivery) it is not recorded twice, while
// another status of the run is; the host's answer is kept bounded.
func TestStatusReportFailedIsRecordedOnce(t *testing.T) {
	ctx := context.Background()
	_, js := embedtest.JetStream(t, embedtest.NATS(t, ""))
	store, err := eventstore.New(ctx, js, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := commands.New(commands.Deps{Store: store, Schemas: schema.New(), Resources: noResources{}, Now: time.Now, NewID: uuid.NewString})
	if err != nil {
		t.Fatal(err)
	}
	runID := uuid.NewString()
	given := commands.RecordStatusReportFailed{RunID: runID, Trigger: "app-push", Status: domain.StatusSuccess,
		Message: strings.Repeat("x", 2000), Attempts: 5, Cause: "e1"}
	for range 3 {
		if err := h.RecordStatusReportFailed(ctx, given); err != nil {
			t.Fatal(err)
		}
	}
	pending := given
	pending.Status, pending.Cause = domain.StatusPending, "e0"
	if err := h.RecordStatusReportFailed(ctx, pending); err != nil {
		t.Fatal(err)
	}
	events, err := store.Load(ctx, domain.AggregateReport, runID)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("report/%s holds %d events, want 2 (the success once, the pending)", runID, len(events))
	}
	f, ok := events[0].(*domain.StatusReportFailed)
	if !ok || f.Status != domain.StatusSuccess || f.Attempts != 5 || f.Trigger != "app-push" || len(f.Message) > domain.MaxReportMessage ||
		f.CorrelationID != runID || f.CausationID != "e1" || f.Type != domain.TypeStatusReportFailed || f.Version != 1 {
		t.Errorf("the first event: %+v", events[0])
	}
	if run, err := store.Load(ctx, domain.AggregateRun, runID); err != nil || len(run) != 0 {
		t.Errorf("the run's own stream: %d events, %v; want none", len(run), err)
	}
	if err := h.RecordStatusReportFailed(ctx, commands.RecordStatusReportFailed{RunID: runID, Status: "green", Cause: "e2"}); err == nil {
		t.Error("a status that is none of pending, success, failure, error was recorded")
	}
}
