package schema

import "github.com/santhosh-tekuri/jsonschema/v6"

// MaxValidationWork bounds the work of validating one spec: one step for
// each subschema applied to each value, plus what enum, required, patterns
// and uniqueItems compare. At the bound, validation takes well under a
// second and its errors some tens of megabytes; a spec of 256 KiB whose
// every value one subschema checks needs about 130,000 steps.
const MaxValidationWork = 200_000

// budget walks a spec the way the library will validate it, without
// validating, and counts the steps, giving up once they pass its bound. The
// walk is an upper bound: it counts every branch of a combinator and both
// arms of a condition, which the library may skip.
type budget struct {
	a    anchors
	left int
	// active holds the schemas being applied to a value, by the value's
	// number: the library stops where a schema comes back to the same
	// value, and so does the walk.
	active map[applied]bool
	values int // numbers the values met so far
}

type applied struct {
	s     *jsonschema.Schema
	value int
}

// fits reports whether validating v against s takes no more than limit
// steps. It walks at most limit steps itself.
func fits(a anchors, s *jsonschema.Schema, v any, limit int) bool {
	b := &budget{a: a, left: limit, active: map[applied]bool{}}
	b.apply(s, v, b.number())
	return b.left >= 0
}

func (b *budget) number() int {
	b.values++
	return b.values
}

// apply counts s applied to v, the value numbered id.
func (b *budget) apply(s *jsonschema.Schema, v any, id int) {
	if b.left < 0 {
		return
	}
	b.left -= weight(s)
	key := applied{s, id}
	if s.Bool != nil || b.active[key] {
		return
	}
	b.active[key] = true
	defer delete(b.active, key)
	for _, c := range b.a.inPlace(s) {
		b.apply(c, v, id)
	}
	switch v := v.(type) {
	case map[string]any:
		for name, member := range v {
			b.member(s, name, member)
		}
	case []any:
		b.items(s, v)
	case string:
		b.text(s, v)
	}
}

// member counts the subschemas s applies to one member of an object.
func (b *budget) member(s *jsonschema.Schema, name string, v any) {
	id := b.number()
	matched := false
	if c, ok := s.Properties[name]; ok {
		matched = true
		b.apply(c, v, id)
	}
	for re, c := range s.PatternProperties {
		b.left--
		if re.MatchString(name) {
			matched = true
			b.apply(c, v, id)
		}
	}
	if c := asSchema(s.AdditionalProperties); c != nil && !matched {
		b.apply(c, v, id)
	}
	if s.UnevaluatedProperties != nil {
		b.apply(s.UnevaluatedProperties, v, id)
	}
	if s.PropertyNames != nil {
		b.apply(s.PropertyNames, name, b.number())
	}
}

// items counts the subschemas s applies to the items of an array.
func (b *budget) items(s *jsonschema.Schema, list []any) {
	if s.UniqueItems {
		b.left -= len(list)
	}
	prefix, _ := s.Items.([]*jsonschema.Schema)
	prefix = append(prefix, s.PrefixItems...)
	rest := []*jsonschema.Schema{asSchema(s.Items), asSchema(s.AdditionalItems), s.Items2020}
	for i, item := range list {
		id := b.number()
		if i < len(prefix) {
			b.apply(prefix[i], item, id)
		} else {
			for _, c := range rest {
				if c != nil {
					b.apply(c, item, id)
				}
			}
		}
		for _, c := range []*jsonschema.Schema{s.Contains, s.UnevaluatedItems} {
			if c != nil {
				b.apply(c, item, id)
			}
		}
	}
}

// textScan is how many bytes of a string count as one step when a pattern
// or a format reads it.
const textScan = 256

// text counts reading a string and validating the content it encodes.
func (b *budget) text(s *jsonschema.Schema, v string) {
	if s.Pattern != nil || s.Format != nil || s.ContentEncoding != nil || s.ContentMediaType != nil {
		b.left -= len(v) / textScan
	}
	if s.ContentSchema == nil || s.ContentMediaType == nil || s.ContentMediaType.UnmarshalJSON == nil {
		return
	}
	raw := []byte(v)
	if s.ContentEncoding != nil {
		var err error
		if raw, err = s.ContentEncoding.Decode(v); err != nil {
			return
		}
	}
	if content, err := s.ContentMediaType.UnmarshalJSON(raw); err == nil {
		b.apply(s.ContentSchema, content, b.number())
	}
}
