// Package natsserver runs the embedded NATS server with JetStream (file
// store) that `conveyor server` starts when no --nats-url is given. In
// cluster mode it is not used.
//
// With Config.Authenticate set it requires credentials of every client and
// gives each the permissions of its identity (auth.go), or an account of its
// own that reaches the server's account through named imports only
// (account.go); the server's own connections hold a secret that lives in
// memory only.
package natsserver
