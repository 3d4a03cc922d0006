package eventjson

import (
	"github.com/conveyor/conveyor/domain"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// lenient takes what encoding/json takes and the strict defaults refuse.
var lenient = json.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// Unmarshal decodes data into v as encoding/json does for the JSON this
// project writes.
func Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v, lenient) }

// DecodeAt is domain.DecodeEventsAt, faster.
func DecodeAt(data []byte, seq uint64) ([]domain.Event, error) {
	return domain.DecodeEventsAtWith(data, seq, Unmarshal)
}
