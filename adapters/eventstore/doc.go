// Package eventstore is the event log on a JetStream stream (CONVEYOR_EVENTS
// by default), one subject per aggregate: conveyor.events.{aggregate}.{id}.
// It appends with the expected last sequence of the aggregate's subject
// (optimistic concurrency) and the event id as Nats-Msg-Id (a retried append
// is stored once), and reads aggregates and the whole log back in order.
package eventstore
