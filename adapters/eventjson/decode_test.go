package eventjson_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/conveyor/conveyor/adapters/eventjson"
	"github.com/conveyor/conveyor/domain"
	"github.com/google/go-cmp/cmp"
)

// fill sets every exported field of v, at any depth, to a value that is not
// its zero value: strings with escapes and non-ASCII, numbers, true, a
// time, JSON in raw fields, two entries in maps and slices.
func fill(v reflect.Value, depth int) {
	switch {
	case v.Type() == reflect.TypeOf(time.Time{}):
		v.Set(reflect.ValueOf(time.Date(2026, 12, 5, 14, 0, 0, 123456789, time.UTC)))
		return
	case v.Type() == reflect.TypeOf(json.RawMessage{}):
		v.SetBytes([]byte(`{"k":[1,"é\"\u2028",null,{"n":2.5e3}],"z":true}`))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d-é\"<&>\u2028\\", depth))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(7 + depth))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(9 + depth))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		if depth > 6 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if depth > 6 {
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if depth > 6 || v.Type().Key().Kind() != reflect.String {
			return
		}
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"a", "b.c"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, depth+1)
			m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}

// Every registered event, every field set, decodes to the same value with
// this package as with encoding/json; so do one command's events in an
// envelope, and the log position is set on each.
func TestDecodesEveryEventAsEncodingJSONDoes(t *testing.T) {
	types := domain.EventTypes()
	sort.Strings(types)
	var all []domain.Event
	for _, typ := range types {
		e, err := domain.NewEvent(typ)
		if err != nil {
			t.Fatal(err)
		}
		fill(reflect.ValueOf(e).Elem(), 0)
		e.EventMeta().Type = typ
		e.EventMeta().Sequence = 0
		all = append(all, e)
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		same(t, typ, data, 41)
	}
	envelope, err := domain.EncodeEvents(all)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "an envelope of every event", envelope, 42)
}

// Input the log should never hold is taken or refused as encoding/json
// takes or refuses it.
func TestOddInputAsEncodingJSON(t *testing.T) {
	for _, data := range []string{
		`{"id":"e","type":"ResourceCreated.v1","resource":{"name":"a","spec":{"k":1,"k":2}}}`,
		"{\"id\":\"e\",\"type\":\"ResourceCreated.v1\",\"resource\":{\"name\":\"\xff\xfe\"}}",
		`{"id":"e","type":"ResourceCreated.v1","id":"f"}`,
		`{"id":"e","type":"ResourceCreated.v1","aggregateVersion":null,"resource":null}`,
		` {"type":"ResourceDeleted.v1", "id":"e", "name":"x\u00e9", "unknown":[1,{"a":2}]} `,
		`{"id":"e","type":"ResourceDeleted.v1","aggregateVersion":-1}`,
		`{"id":"e","type":"ResourceDeleted.v1","aggregateVersion":1.5}`,
		`{"id":"e","type":"ResourceDeleted.v1","time":"not a time"}`,
		`{"id":"e","type":"ResourceDeleted.v1"`,
		`{"events":[]}`,
		`{"events":[{"id":"e","type":"ResourceDeleted.v1"},{"id":"f","type":"ResourceDeleted.v1"}]}`,
		`{"id":"e","type":"NoSuchEvent.v1"}`,
	} {
		same(t, data, []byte(data), 7)
	}
}

// same decodes data both ways and reports any difference.
func same(t *testing.T, what string, data []byte, seq uint64) {
	t.Helper()
	want, wantErr := domain.DecodeEventsAt(data, seq)
	got, gotErr := eventjson.DecodeAt(data, seq)
	if (wantErr == nil) != (gotErr == nil) {
		t.Errorf("%s: encoding/json says %v, eventjson %v", what, wantErr, gotErr)
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-encoding/json +eventjson):\n%s", what, diff)
	}
	for _, e := range got {
		if e.EventMeta().Sequence != seq {
			t.Errorf("%s: sequence %d, want %d", what, e.EventMeta().Sequence, seq)
		}
	}
}

// BenchmarkDecode compares a resource create decoded by encoding/json and
// by this package.
func BenchmarkDecode(b *testing.B) {
	var agg domain.ResourceAggregate
	c := domain.Cause{EventID: "5f39280d-c58d-42a3-88be-44c1eb2d6916", Time: time.Now(),
		CorrelationID: "5f39280d-c58d-42a3-88be-44c1eb2d6917", CausationID: "5f39280d-c58d-42a3-88be-44c1eb2d6918"}
	if err := agg.Create(domain.Resource{Name: "c16-997", Type: "bench", Spec: []byte(`{"n":1}`)}, "c14cd5c2-26eb-4ed7-ab72-d90ed1dbcd6f", c); err != nil {
		b.Fatal(err)
	}
	data, err := domain.EncodeEvents(agg.Changes())
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range []struct {
		name   string
		decode func([]byte, uint64) ([]domain.Event, error)
	}{{"encoding-json", domain.DecodeEventsAt}, {"eventjson", eventjson.DecodeAt}} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := d.decode(data, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The values the read models hold (a run with its steps, a resource, a
// definition, a pipeline), every field set, read back by Unmarshal as
// encoding/json reads them.
func TestUnmarshalsReadModelValuesAsEncodingJSON(t *testing.T) {
	for _, v := range []any{&domain.Run{}, &domain.Resource{}, &domain.ResourceDefinition{}, &domain.Pipeline{}} {
		fill(reflect.ValueOf(v).Elem(), 0)
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		got := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := json.Unmarshal(data, want); err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		if err := eventjson.Unmarshal(data, got); err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%T (-encoding/json +eventjson):\n%s", v, diff)
		}
	}
}
