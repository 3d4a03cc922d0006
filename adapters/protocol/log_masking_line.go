package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
)

// maskLine masks every string of a line's JSON object (and its labels'
// values); the message carries its end to the writer's next line. A body
// that is not a JSON object is masked as a whole. The object is written
// again from what was decoded, even when nothing was masked: a key given
// twice keeps only the value that was masked.
func maskLine(ctx context.Context, masker LineMasker, runID string, data []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		masked, err := masker.Line(ctx, runID, "raw", string(data))
		return []byte(masked), err
	}
	writer := string(fields["driver"]) + "|" + string(fields["step"]) + "|" + string(fields["attempt"])
	for name, raw := range fields {
		if s, ok := jsonString(raw); ok {
			masked, err := masker.Line(ctx, runID, writer+"|"+name, s)
			if err != nil {
				return nil, err
			}
			if masked != s {
				fields[name], _ = json.Marshal(masked)
			}
			continue
		}
		var labels map[string]string
		if name != "labels" || json.Unmarshal(raw, &labels) != nil {
			continue
		}
		for k, v := range labels {
			masked, err := masker.Line(ctx, runID, writer+"|labels", v)
			if err != nil {
				return nil, err
			}
			labels[k] = masked
		}
		fields[name], _ = json.Marshal(labels)
	}
	return encodeObject(fields), nil
}

// jsonString is the string that raw, one decoded JSON value, holds, if it
// is a string. Most strings of a log line have no escapes: their bytes are
// the string, and a second decoding pass over them is not needed.
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// encodeObject writes fields as one JSON object, its keys in order; each
// value is written as it is, since it was decoded from JSON or encoded as
// JSON here.
func encodeObject(fields map[string]json.RawMessage) []byte {
	names := slices.AppendSeq(make([]string, 0, len(fields)), maps.Keys(fields))
	slices.Sort(names)
	size := 2 + len(names)
	for name, value := range fields {
		size += len(name) + len(value) + 3
	}
	var b bytes.Buffer
	b.Grow(size) // one allocation when no key needs escaping
	b.WriteByte('{')
	for i, name := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(name)
		b.Write(key)
		b.WriteByte(':')
		b.Write(fields[name])
	}
	b.WriteByte('}')
	return b.Bytes()
}
