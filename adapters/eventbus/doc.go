// Package eventbus consumes the event log with watermill's cqrs event group
// processor on watermill-nats (JetStream): one durable consumer per
// subscription, named after it, so that a restart resumes where it stopped
// and nothing published meanwhile is lost.
package eventbus
