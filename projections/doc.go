// Package projections turns events into the read models kept in a key-value
// store (etcd in production) and answers queries on them.
//
// Applying an event is idempotent (an event at or below the stored aggregate
// version is skipped) and ordered per aggregate (an event after a gap is
// refused with ErrGap, so the consumer retries it later). A projection can be
// rebuilt from the first event at any time.
//
// It imports only package domain of this project and declares the small Store
// port it needs; the etcd implementation lives in package adapters.
package projections
