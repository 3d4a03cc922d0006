// Package etcdserver runs the embedded single-member etcd that
// `conveyor server` starts when no --etcd-endpoints are given. In cluster
// mode it is not used.
package etcdserver
