// Package natsserver runs the embedded NATS server with JetStream (file
// store) that `conveyor server` starts when no --nats-url is given. In
// cluster mode it is not used.
//
// With Config.Authenticate set it requires a token of every client and
// gives each the permissions of its identity (auth.go); the server's own
// connections hold a secret that lives in memory only.
package natsserver
