package domain

import (
	"bytes"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// A run's report aggregate, report/{Run ID}, records the commit statuses
// of the run that were not reported to the git host. It is the run's, but
// apart from the run's own stream: the engine appends to the run under
// optimistic concurrency, and the reporter, a consumer of its own, must
// never make one of those appends lose a race.

// AggregateReport is the aggregate kind of a run's reports.
const AggregateReport = "report"

// TypeStatusReportFailed is the event of a commit status given up.
const TypeStatusReportFailed = "StatusReportFailed.v1"

// MaxReportMessage bounds, in bytes, the git host's answer (or the error)
// a StatusReportFailed keeps.
const MaxReportMessage = 512

// StatusReportFailed: the commit status Status (pending, success, failure
// or error) of the run (the aggregate's id, and the correlation id) was
// given up after Attempts attempts, the git host answering Message (or
// Message saying why nothing was sent: Attempts 0). Its causation id is
// the run event the status was for.
type StatusReportFailed struct {
	Meta
	Trigger  string `json:"trigger"`
	Status   string `json:"status"`
	Message  string `json:"message"`
	Attempts int    `json:"attempts"`
}

func init() {
	register(TypeStatusReportFailed, func() Event { return &StatusReportFailed{} })
}

// StatusReport is a commit status of a run that was not reported, as a
// run's read model shows it.
// Status is the status not reported, Message the git host's answer (or
// why nothing was sent), Attempts how many times it was sent (0: it could
// not be), Trigger the trigger that reports the run, At when it was given
// up.
type StatusReport struct {
	Status   string    `json:"status"`
	Message  string    `json:"message"`
	Attempts int       `json:"attempts"`
	Trigger  string    `json:"trigger,omitempty"`
	At       time.Time `json:"at"`
}

// Report is what a run's read model shows of f.
func (f *StatusReportFailed) Report() StatusReport {
	return StatusReport{Status: f.Status, Message: f.Message, Attempts: f.Attempts, Trigger: f.Trigger, At: f.Time}
}

// reportIDs is the namespace of the ids of StatusReportFailed events.
var reportIDs = uuid.MustParse("4f1e7a2c-93b5-4d6e-8a0f-2c7d5b1e9a34")

// StatusReportFailedID is the id of the StatusReportFailed of the status
// state of run runID that the run event causeID asked for: derived from
// them, so that the same event given up again (a redelivery) is recorded
// once.
func StatusReportFailedID(runID, causeID, state string) string {
	return uuid.NewSHA1(reportIDs, []byte(runID+"/"+causeID+"/"+state)).String()
}

// ReportMessage is msg as a StatusReportFailed keeps it: without secret
// (a token; nothing is removed when it is empty), on one line (each run of
// white space one space), valid UTF-8, at most MaxReportMessage bytes.
func ReportMessage(msg string, secret []byte) string {
	if len(secret) > 0 && bytes.Contains([]byte(msg), secret) {
		msg = strings.ReplaceAll(msg, string(secret), "[token]")
	}
	if len(msg) > 4*MaxReportMessage { // an answer of any size costs what this bound does
		msg = msg[:4*MaxReportMessage]
	}
	msg = strings.Join(strings.Fields(strings.ToValidUTF8(msg, "?")), " ")
	if len(msg) <= MaxReportMessage {
		return msg
	}
	cut := MaxReportMessage - len("…")
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}

// ReportAggregate is a run's commit statuses given up.
type ReportAggregate struct {
	runID   string
	ids     []string
	version uint64
	changes []Event
}

// Changes are the events recorded since the aggregate was loaded.
func (a *ReportAggregate) Changes() []Event { return a.changes }

// Apply folds one event into the aggregate.
func (a *ReportAggregate) Apply(e Event) {
	m := e.EventMeta()
	a.runID, a.version = m.AggregateID, m.Version
	a.ids = append(a.ids, m.ID)
}

// Fail records f, a status of run runID given up, under c (whose EventID
// is StatusReportFailedID's). A failure the aggregate holds already (the
// same id) records nothing: false.
func (a *ReportAggregate) Fail(runID string, f StatusReportFailed, c Cause) (bool, error) {
	if !ValidRunID(runID) {
		return false, Invalid("runid", "is not a Run ID")
	}
	if !slices.Contains([]string{StatusPending, StatusSuccess, StatusFailure, StatusError}, f.Status) {
		return false, Invalid("status", "is not pending, success, failure or error")
	}
	if slices.Contains(a.ids, c.EventID) {
		return false, nil
	}
	f.Message = ReportMessage(f.Message, nil)
	f.Meta = c.meta(TypeStatusReportFailed, AggregateReport, runID, a.version+1)
	a.runID, a.version = runID, a.version+1
	a.ids = append(a.ids, c.EventID)
	a.changes = append(a.changes, &f)
	return true, nil
}
