// Package projections turns events into the read models kept in a key-value
// store (etcd in production) and answers queries on them.
//
// One writer applies the log: the Runner reads it in order from the
// checkpoint on, applies many messages per transaction, and moves the
// checkpoint in the same transaction, so projecting is idempotent by log
// position. A message it cannot apply is parked (see Parking) and skipped,
// never retried without end. Position tells readers how far the read models
// got, so that a read can wait for a write's position. A projection can be
// rebuilt from the first event at any time (Maintenance).
//
// It imports only package domain of this project and declares the small
// ports it needs (Store, MessageLog, Parking); the etcd and JetStream
// implementations live in package adapters.
package projections
