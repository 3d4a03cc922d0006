package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/conveyor/conveyor/adapters/logmask"
)

// maskLine masks every string of a line's JSON object at any depth (the
// values and keys of objects, the elements of arrays) and every number
// long enough to hold a secret, which then becomes a string. A body that
// is not a JSON object, or is nested deeper than encoding/json decodes
// (10,000 levels), is masked as a whole, as text. The object is written
// again from what was decoded, its keys in order, even when nothing was
// masked: a key given twice keeps only the value that was masked. A value
// that is an object or an array keeps its text but for what was masked.
//
// The values in one field, nested ones in the order they are written, are
// masked as one stream of their writer (driver, step, attempt), which
// carries its end to the same field of the writer's next line: a value
// cut between two lines, or between two strings of one field, is masked.
// One stream per field rather than per nested path, so that a line of
// many nested strings cannot crowd the writer's other streams out of
// logmask.RunsConfig.MaxStreams. Keys are masked in keysStream; the names
// of the fields every line has (lineField) are left as they are.
func maskLine(ctx context.Context, masker LineMasker, runID string, data []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		masked, err := masker.Line(ctx, runID, "raw", string(data))
		return []byte(masked), err
	}
	writer := string(fields["driver"]) + "|" + string(fields["step"]) + "|" + string(fields["attempt"])
	var renamed map[string]string
	for name, raw := range fields {
		stream := writer + "|" + name
		if !lineField(name) {
			key, err := masker.Line(ctx, runID, keysStream, name)
			if err != nil {
				return nil, err
			}
			if key != name {
				if renamed == nil {
					renamed = map[string]string{}
				}
				renamed[name] = key
			}
		}
		masked, err := maskValue(ctx, masker, runID, stream, raw)
		if err != nil {
			return nil, err
		}
		fields[name] = masked
	}
	return encodeObject(fields, renamed), nil
}

// keysStream is the stream the keys in a run's lines are masked in, all
// writers' alike. In their values' streams, a key between two strings of
// a field would break the carry of a value cut between them; keys are not
// written in parts, and the carry across them only masks a value spread
// over two keys in a row.
const keysStream = "keys"

// lineField reports whether name is one of the fields of a line as the
// runtimes write it: a name of the protocol, not of the writer's data, so
// it is not masked. Any other key of the line is.
func lineField(name string) bool {
	switch name {
	case "runid", "driver", "pipeline", "step", "attempt", "timestamp", "time", "message", "labels":
		return true
	}
	return false
}

// maskValue is raw, one JSON value, with each string in it (an object's
// keys as well as its values) and each number of logmask.MinSecretLen
// bytes or more masked as stream, in the order they are written; a masked
// number becomes a string. The rest of raw is kept as it is, and raw
// itself is returned when nothing was masked. The walk is a loop over
// raw's bytes, which json.Unmarshal has checked: no depth costs a stack.
func maskValue(ctx context.Context, masker LineMasker, runID, stream string, raw json.RawMessage) (json.RawMessage, error) {
	var out []byte // nil until something is masked
	kept := 0      // raw[:kept] is in out
	for at := 0; at < len(raw); {
		var end int
		var text string
		of := stream
		switch c := raw[at]; {
		case c == '"':
			end = stringEnd(raw, at)
			s, ok := jsonString(raw[at:end])
			if !ok {
				s = string(raw[at:end]) // not after json.Unmarshal: masked as written
			}
			text = s
			if isKey(raw[end:]) {
				of = keysStream
			}
		case c == '-' || '0' <= c && c <= '9':
			end = at + 1
			for end < len(raw) && strings.IndexByte("0123456789+-.eE", raw[end]) >= 0 {
				end++
			}
			if end-at < logmask.MinSecretLen {
				at = end
				continue
			}
			text = string(raw[at:end])
		default: // punctuation, space, true, false, null
			at++
			continue
		}
		masked, err := masker.Line(ctx, runID, of, text)
		if err != nil {
			return nil, err
		}
		if masked != text {
			quoted, _ := json.Marshal(masked)
			out = append(append(out, raw[kept:at]...), quoted...)
			kept = end
		}
		at = end
	}
	if out == nil {
		return raw, nil
	}
	return append(out, raw[kept:]...), nil
}

// isKey reports whether the JSON string before rest is an object's key.
func isKey(rest []byte) bool {
	rest = bytes.TrimLeft(rest, " \t\r\n")
	return len(rest) > 0 && rest[0] == ':'
}

// stringEnd is where the JSON string that starts at raw[at] ends: the
// index after its closing quote.
func stringEnd(raw []byte, at int) int {
	for i := at + 1; ; i++ {
		q := bytes.IndexByte(raw[i:], '"')
		if q < 0 {
			return len(raw)
		}
		i += q
		escapes := 0 // the backslashes before the quote
		for escapes < i-at-1 && raw[i-1-escapes] == '\\' {
			escapes++
		}
		if escapes%2 == 0 {
			return i + 1
		}
	}
}

// jsonString is the string that raw, one encoded JSON string, holds. Most
// strings of a log line have no escapes: their bytes are the string, and a
// second decoding pass over them is not needed.
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// encodeObject writes fields as one JSON object, in the order of their
// keys, each under its name in renamed if it has one (two keys masked
// alike are both written); each value is written as it is, since it was
// decoded from JSON or encoded as JSON here.
func encodeObject(fields map[string]json.RawMessage, renamed map[string]string) []byte {
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
		key := name
		if r, ok := renamed[name]; ok {
			key = r
		}
		quoted, _ := json.Marshal(key)
		b.Write(quoted)
		b.WriteByte(':')
		b.Write(fields[name])
	}
	b.WriteByte('}')
	return b.Bytes()
}
