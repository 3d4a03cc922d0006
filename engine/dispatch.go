package engine

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/conveyor/conveyor/domain"
)

// Work is one message for drivers, as docs/protocol.md describes it.
type Work struct {
	// Driver names the one driver of a pipeline step; empty means every
	// driver listening to the resource's type (fan-out).
	Driver string
	// RunsOn is the step's label set, sorted: only a process of Driver
	// with all of these labels takes the work. Nil: any process of it.
	RunsOn []string
	// Event is "create", "update", "delete" or "process".
	Event    string
	Resource domain.Resource
	RunID    string
	Step     string
	Attempt  int
	// MessageID deduplicates a repeated dispatch: {run_id}.{step}.{attempt}
	// for a step, the resource event's id for a fan-out.
	MessageID string
	// DispatchedAt is when the step's dispatch was recorded (zero for a
	// fan-out): once the stream's duplicate window has passed since, a
	// repeat of the publish is no longer deduplicated by MessageID.
	DispatchedAt time.Time
	// Secrets names the secrets the step is granted; the driver asks for
	// their values while it runs the step. Never the values themselves.
	Secrets []string
	// With is the step's parameters as evaluated at its dispatch (a JSON
	// object), nil for a step without `with`.
	With json.RawMessage
}

// Dispatcher publishes work to drivers. Dispatch must be idempotent for one
// MessageID, however long after the first: the engine publishes a step's
// work again when it looks at a run whose step waits and does not remember
// publishing it (after a crash, on another server, once the run left its
// cache), and a driver must be handed it once.
//
// Withdraw removes the work of a step that no longer waits for it (its
// result is recorded, or its run was cancelled), so that a driver whose
// consumer starts over is not handed finished work again. It must be
// idempotent and take work that is already gone as done.
//
// Stop tells the driver of work already delivered that it no longer
// matters (its run was cancelled or ended, or its attempt timed out), so
// that the driver can cancel what it is doing. It is best effort and may be
// sent more than once.
type Dispatcher interface {
	Dispatch(ctx context.Context, w Work) error
	Withdraw(ctx context.Context, w Work) error
	Stop(ctx context.Context, s Stop) error
}

// Stop is a notice to a driver to stop the work of a step's attempt.
type Stop struct {
	Driver  string
	RunID   string
	Step    string
	Attempt int
	// Reason is why, for the driver's logs: "the run was cancelled".
	Reason string
}

// StepMessageID is the message id of a step's work: {run_id}.{step}.{attempt}.
func StepMessageID(runID, step string, attempt int) string {
	return runID + "." + step + "." + strconv.Itoa(attempt)
}
