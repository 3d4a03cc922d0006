// Package etcdstore keeps the read models in etcd under a prefix
// ("/conveyor" by default). It implements projections.Store: guarded
// commits are etcd transactions comparing mod revisions.
package etcdstore
