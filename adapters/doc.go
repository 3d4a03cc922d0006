// Package adapters holds Conveyor's infrastructure: the JetStream event store,
// the etcd read-model store, the watermill wiring of the consumers, the live
// follower of a stream, the JSON Schema validator and the embedded NATS and
// etcd servers. Each adapter lives in its own sub-package and satisfies a
// port declared by an inner package.
package adapters
