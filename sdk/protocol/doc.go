// Package protocol holds the JSON Schemas (draft 2020-12) of the messages
// drivers and the server exchange over NATS, one per message, as
// docs/protocol.md describes them. The schemas are the reference for SDKs in
// other languages; the Go SDK's and the server's messages are validated
// against them (cmd/conveyor TestProtocolMessagesMatchTheirSchemas).
//
// The package is standard library only, so that it can become the one
// home of the wire types (see README.md).
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
	Work            = "work"
	ConsumerRequest = "consumer-request"
	ConsumerReply   = "consumer-reply"
	Heartbeat       = "heartbeat"
	Stop            = "stop"
	Result          = "result"
	LogLine         = "log-line"
	SecretsRequest  = "secrets-request"
	SecretsReply    = "secrets-reply"
	Presence        = "presence"
	// Resource is not a message: the resource inside a work message's
	// payload and a result.
	Resource = "resource"
)

// Kinds lists the message kinds.
var Kinds = []string{Work, ConsumerRequest, ConsumerReply, Heartbeat, Stop, Result, LogLine, SecretsRequest, SecretsReply, Presence}
