// Package eventbus consumes the event log with watermill's router on
// watermill-nats (JetStream): one durable consumer per subscription, named
// after it, so that a restart resumes where it stopped and nothing published
// meanwhile is lost. Each handler gets one message's events (the events one
// command recorded) and runs under the recoverer (a panic is an error), a
// few retries, and the poison queue: a message that still fails is parked
// and the consumer goes on, unless a dependency is away.
package eventbus
