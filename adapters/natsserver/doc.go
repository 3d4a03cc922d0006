// Package natsserver runs the embedded NATS server with JetStream (file
// store) that `conveyor server` starts when no --nats-url is given. In
// cluster mode it is not used.
package natsserver
