// Package domain holds Conveyor's aggregates (ResourceDefinition, Resource,
// Pipeline, Run, Trigger and its deliveries, …), the events they record,
// their invariants and the name rule.
//
// It is pure: no I/O, no clock, no context. Time, identifiers and causes are
// passed in by the caller, so every rule can be tested as "given these events,
// when this command, then these events (or this error)".
//
// It must import nothing of this project and no infrastructure library; only
// the standard library and github.com/google/uuid.
package domain
