package projections

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The layout of DESIGN.md §6, relative to the store's prefix.
const (
	definitionsPrefix      = "definitions/"
	resourcesPrefix        = "resources/"
	resourceVersionsPrefix = "resource-versions/"
	pipelinesPrefix        = "pipelines/"
	runsPrefix             = "runs/"
	runIndexPrefix         = "run-index/"
	checkpointsPrefix      = "checkpoints/"
	// runDeadlinesPrefix holds a key per run that has not ended and has a
	// next due time (a step or run timeout, a retry's wait), ordered by that
	// time: what the engine's timers read, without reading any other run.
	runDeadlinesPrefix = "run-deadlines/"
	// runsEndedPrefix holds a key per ended run the read models keep, in
	// the order they ended: which to let go of first (see Retention).
	runsEndedPrefix = "run-ended/"
	// aggregatesPrefix holds, per aggregate, the last aggregate version
	// applied: the guard that makes projecting idempotent and ordered.
	aggregatesPrefix = "aggregates/"
)

func definitionKey(name string) string { return definitionsPrefix + name }
func pipelineKey(name string) string   { return pipelinesPrefix + name }
func runKey(id string) string          { return runsPrefix + id }
func resourceKey(typ, name string) string {
	return resourcesPrefix + typ + "/" + name
}
func resourceVersionsOf(typ, name string) string {
	return resourceVersionsPrefix + typ + "/" + name + "/"
}
func resourceVersionKey(typ, name string, version int) string {
	return resourceVersionsOf(typ, name) + fmt.Sprintf("%020d", version)
}
func aggregateKey(aggregate, id string) string { return aggregatesPrefix + aggregate + "/" + id }

// Run indexes sort newest first: the key holds the start time counted down.
func runIndexKeys(id string, started time.Time, resourceType, resourceName, pipeline string) []string {
	order := runOrderBound(started) + "-" + id
	return []string{
		runIndexPrefix + "all/" + order,
		runIndexPrefix + "type/" + resourceType + "/" + order,
		runIndexPrefix + "resource/" + resourceType + "/" + resourceName + "/" + order,
		runIndexPrefix + "pipeline/" + pipeline + "/" + order,
	}
}

// runStatusIndex is the index of the runs in one status, newest first.
func runStatusIndex(status string) string { return runIndexPrefix + "status/" + status + "/" }

// runStatusKey is a run's key in the index of its status.
func runStatusKey(id string, started time.Time, status string) string {
	return runStatusIndex(status) + runOrderBound(started) + "-" + id
}

// runDeadlineKey is a run's key in the deadline index: its next due time,
// earliest first.
func runDeadlineKey(id string, due time.Time) string {
	return runDeadlinePrefixUntil(due) + "-" + id
}

// runDeadlinePrefixUntil is the part of a deadline key that orders runs due
// at t: every key of a run due at or before t sorts at or before it.
func runDeadlinePrefixUntil(t time.Time) string {
	return runDeadlinesPrefix + fmt.Sprintf("%020d", max(t.UnixNano(), 0))
}

// runOrderBound is the part of a run index key that orders runs started at
// t, newest first: every key of a run started then begins with it.
func runOrderBound(t time.Time) string { return fmt.Sprintf("%020d", math.MaxInt64-t.UnixNano()) }

// runIndex is the index a run filter walks.
func runIndex(f RunFilter) string {
	switch {
	case strings.Contains(strings.Trim(f.Resource, "/"), "/"):
		return runIndexPrefix + "resource/" + strings.Trim(f.Resource, "/") + "/"
	case f.Resource != "":
		return runIndexPrefix + "type/" + strings.Trim(f.Resource, "/") + "/"
	case f.Pipeline != "":
		return runIndexPrefix + "pipeline/" + f.Pipeline + "/"
	case f.Status != "":
		return runStatusIndex(f.Status)
	default:
		return runIndexPrefix + "all/"
	}
}
