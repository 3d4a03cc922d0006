// Package secrets keeps the values of pipeline secrets outside the event
// log: encrypted with AES-256-GCM under a key that is never in NATS or
// etcd, in a JetStream key-value bucket; and it answers a driver's request
// for the secrets of the step it runs, and no others.
package secrets
