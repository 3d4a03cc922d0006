// Package etcdserver runs the embedded single-member etcd that
// `conveyor server` starts when no --etcd-endpoints are given. In cluster
// mode it is not used.
//
// It takes only clients that present the certificate it writes into its
// data directory at every start (mutual TLS, tls.go), on its client and its
// peer port: a loopback port is open to every process on the machine.
package etcdserver
