// Package protocol speaks the driver wire protocol of docs/protocol.md on
// JetStream: it creates the streams `messages`, `pipeline-engine` and `logs`,
// publishes the engine's work to drivers, and takes in their results.
//
// Subjects, stream names and JSON field names are exact, because drivers of
// Conveyor CI's own runtime speak them.
package protocol
