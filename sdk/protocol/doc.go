// Package protocol holds the JSON Schemas (draft 2020-12) of the messages
// drivers and the server exchange over NATS, one per message, as
// docs/protocol.md describes them. The schemas are the reference for SDKs in
// other languages; the Go SDK's and the server's messages are validated
// against them (cmd/conveyor TestProtocolMessagesMatchTheirSchemas).
//
// The package is standard library only: it is also the one home of the
// messages as Go types (messages.go) and of the subjects (subjects.go),
// which the server and the Go SDK both use, so that each is defined once.
package protocol

import "embed"

// Schemas holds the schema files, NAME.schema.json, each with an $id of
// SchemaBase + its file name.
//
//go:embed *.schema.json
var Schemas embed.FS

// SchemaBase is the prefix of every schema's $id. The ids are names, not
// addresses to fetch: a "$ref" between schemas is resolved against it.
const SchemaBase = "https://github.com/conveyor/conveyor/sdk/protocol/"

// Message kinds, each the name of its schema file without .schema.json.
const (
	KindWork            = "work"
	KindConsumerRequest = "consumer-request"
	KindConsumerReply   = "consumer-reply"
	KindHeartbeat       = "heartbeat"
	KindStop            = "stop"
	KindResult          = "result"
	KindLogLine         = "log-line"
	KindSecretsRequest  = "secrets-request"
	KindSecretsReply    = "secrets-reply"
	KindPresence        = "presence"
	// KindResource is not a message: the resource inside a work message's
	// payload and a result.
	KindResource = "resource"
)

// Kinds lists the message kinds.
var Kinds = []string{KindWork, KindConsumerRequest, KindConsumerReply, KindHeartbeat, KindStop, KindResult, KindLogLine, KindSecretsRequest, KindSecretsReply, KindPresence}
