// Package follow reads a JetStream stream live: the messages stored after a
// position, then each new one as it arrives.
//
// Run does so through one ordered consumer for the whole follow, which it
// removes from the server when it ends: what the token follower uses. A
// Tail follows a whole stream with one consumer and keeps its recent
// messages in a bounded ring, so that any number of followers share it
// (Tail.Follow): what the API's log and event streams use, so that a
// thousand of them cost the stream one consumer and a bounded amount of
// memory. ReadBatch reads stored messages without a consumer (a direct
// get).
//
// It knows nothing of what the messages mean.
package follow
