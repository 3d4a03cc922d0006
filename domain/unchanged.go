package domain

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// A replace that changes nothing records nothing: applying the same file
// twice leaves the log, the versions and the runs as they were, as
// `kubectl apply` does. (A resource's replace is the exception: it starts a
// run, which is how clients run a pipeline again on purpose; see
// Resource.SameAs for the check clients use to skip it.)

// sameJSON reports whether a and b hold the same JSON value: the same
// members and items, whatever their order and spacing, numbers compared as
// written.
func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	va, errA := decodeExact(a)
	vb, errB := decodeExact(b)
	return errA == nil && errB == nil && reflect.DeepEqual(va, vb)
}

func decodeExact(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// sameDefinition reports whether replacing cur with next changes nothing
// (the id is the server's).
func sameDefinition(cur, next ResourceDefinition) bool {
	return cur.Name == next.Name && cur.Description == next.Description && cur.Version == next.Version &&
		cur.FormatAssertion == next.FormatAssertion && sameJSON(cur.Schema, next.Schema)
}

// samePipeline reports whether replacing cur with next changes nothing (the
// version is the server's).
func samePipeline(cur, next Pipeline) bool {
	cur.Version, next.Version = "", ""
	a, errA := json.Marshal(cur)
	b, errB := json.Marshal(next)
	return errA == nil && errB == nil && sameJSON(a, b)
}

// SameAs reports whether r, as a client sends it, would replace current
// with nothing new: the same spec, pipeline and client metadata. The
// metadata keys the server owns (version, driverresults.*) do not count.
func (r Resource) SameAs(current Resource) bool {
	return r.Name == current.Name && r.Type == current.Type && r.Pipeline == current.Pipeline &&
		sameJSON(r.Spec, current.Spec) && reflect.DeepEqual(ClientMetadata(r.Metadata), ClientMetadata(current.Metadata))
}

// ClientMetadata is the part of a resource's metadata that its clients
// own: every key but version and driverresults.*.
func ClientMetadata(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k == MetaVersion || strings.HasPrefix(k, MetaResultPrefix) {
			continue
		}
		out[k] = v
	}
	return out
}
