// Package follow reads a JetStream stream live: the messages stored after a
// position, then each new one as it arrives, through one ordered consumer
// for the whole follow, which it removes from the server when it ends.
//
// It is what the API's log and event streams and the token follower share;
// it knows nothing of what the messages mean.
package follow
