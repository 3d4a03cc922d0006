// Command conveyor is Conveyor's one binary: `conveyor server` runs the
// server (embedded NATS and etcd by default, or external clusters), and the
// other subcommands are the command-line client. This package only wires the
// other packages together.
package main
