package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// exactJSON reads request bodies so that what is stored is what was sent:
// text that is not UTF-8 is refused rather than replaced, numbers keep every digit (an untyped value such as a spec holds them as
// json.Number, not float64), and an object that names a key twice is
// refused instead of keeping the last value.
var exactJSON = huma.Format{
	Marshal: huma.DefaultJSONFormat.Marshal,
	Unmarshal: func(data []byte, v any) error {
		if err := checkText(data); err != nil {
			return err
		}
		if untyped, ok := v.(*any); ok {
			// huma's own validation pass: its checks of numbers read
			// float64; a number beyond float64 is still valid JSON.
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber()
			if err := dec.Decode(untyped); err != nil {
				return err
			}
			*untyped = asFloats(*untyped)
			return nil
		}
		if err := refuseDuplicateKeys(data); err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(v); err != nil {
			return err
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return errors.New("unexpected data after the JSON value")
		}
		return nil
	},
}

// asFloats is v with each json.Number as the nearest float64.
func asFloats(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(v), 64) // out of range: ±Inf, still a number
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = asFloats(e)
		}
	case []any:
		for i, e := range v {
			v[i] = asFloats(e)
		}
	}
	return v
}

// MaxBodyDepth is the deepest nesting of objects and arrays a request body
// may have.
const MaxBodyDepth = 64

// refuseDuplicateKeys reports the first object in data that names a key
// twice, with the key's location ("body.spec.x"), and a nesting deeper than
// MaxBodyDepth.
func refuseDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return checkKeys(dec, "body", 0)
}

func checkKeys(dec *json.Decoder, at string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && depth == MaxBodyDepth && (d == '{' || d == '[') {
		return fmt.Errorf("%s nests deeper than %d levels of objects and arrays", at, MaxBodyDepth)
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := k.(string)
			if seen[key] {
				return fmt.Errorf("duplicate key %q in %s: each key may appear once", key, at)
			}
			seen[key] = true
			if err := checkKeys(dec, at+"."+key, depth+1); err != nil {
				return err
			}
		}
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := checkKeys(dec, fmt.Sprintf("%s[%d]", at, i), depth+1); err != nil {
				return err
			}
		}
	default:
		return nil
	}
	_, err = dec.Token() // the closing delimiter
	return err
}
