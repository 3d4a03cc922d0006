package sdk

import (
	"encoding/json"

	"github.com/conveyor/conveyor/sdk/protocol"
)

// The messages and subjects of the protocol are those of package protocol
// (docs/protocol.md), which the server uses too.

// decodeWork reads a work message and the resource its payload holds.
func decodeWork(data []byte) (protocol.Work, Resource, error) {
	var w protocol.Work
	if err := json.Unmarshal(data, &w); err != nil {
		return w, Resource{}, err
	}
	var r Resource
	if err := json.Unmarshal([]byte(w.Payload), &r); err != nil {
		return w, r, err
	}
	return w, r, nil
}
