// Package eventstore is the event log on a JetStream stream (CONVEYOR_EVENTS
// by default), one subject per aggregate: conveyor.events.{aggregate}.{id}.
// A command's events are appended as one message (an envelope when there are
// several), with the expected last sequence of the aggregate's subject
// (optimistic concurrency) and the first event's id as Nats-Msg-Id (a
// retried append is stored once). It reads aggregates and the whole log back
// in order, remembers the aggregates it loaded or wrote, and, as the log's
// sole writer, knows the last sequence of those it used recently without
// asking. What it keeps in memory is bounded: it follows the work, never the
// number of aggregates in the log.
package eventstore
