// Package commands holds one handler per write use case. A handler loads an
// aggregate's events from the EventStore (or takes the state its caller
// already holds), lets the domain decide, and appends the events it recorded
// as one message with optimistic concurrency. It never writes a read model:
// an answer means "durable in the log", and the projector makes it visible.
// RecordWrites lets a caller learn the log position of its writes, which is
// what a reader waits for (read your writes by position).
//
// It declares the ports it needs (EventStore, SchemaValidator,
// ResourceIndex, SecretValues, …) and imports only package domain of this project: never
// nats.go, etcd, watermill or huma.
package commands
