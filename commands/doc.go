// Package commands holds one handler per write use case. A handler loads an
// aggregate's events from the EventStore, lets the domain decide, appends the
// recorded event with optimistic concurrency, and makes the change visible in
// the read model before it returns (read your writes).
//
// It declares the ports it needs (EventStore, Projector, SchemaValidator,
// ResourceIndex) and imports only package domain of this project: never
// nats.go, etcd, watermill or huma.
package commands
