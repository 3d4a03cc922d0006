package schema

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The edges of a compiled schema, as the cost checks see them: which
// subschemas apply to the same value and which to the values inside it.
// Both lists are upper bounds of what the library evaluates: a branch the
// library may skip (anyOf after a match, else after a passing if) counts.

// anchors lists, for references resolved while validating ($dynamicRef,
// $recursiveRef), every schema of the document they may resolve to. The
// library picks one of them from the path it came by; counting all of them
// keeps the cost an upper bound without following that path.
type anchors struct {
	dynamic   map[string][]*jsonschema.Schema // by $dynamicAnchor name
	recursive []*jsonschema.Schema            // each with "$recursiveAnchor": true
}

// findAnchors compiles every object of doc that declares a dynamic or
// recursive anchor. Such a schema may be reached only by a reference
// resolved while validating, so walking the compiled schema from its root
// would not find it. Objects that do not compile (data under "enum" or
// "default" that only looks like a schema) are skipped: the library never
// resolves to them.
func findAnchors(c *jsonschema.Compiler, doc any) anchors {
	a := anchors{dynamic: map[string][]*jsonschema.Schema{}}
	var walk func(v any, ptr string)
	walk = func(v any, ptr string) {
		switch v := v.(type) {
		case map[string]any:
			name, dynamic := v["$dynamicAnchor"].(string)
			recursive, _ := v["$recursiveAnchor"].(bool)
			if dynamic || recursive {
				if s, err := c.Compile(schemaURL + "#" + ptr); err == nil {
					if dynamic {
						a.dynamic[name] = append(a.dynamic[name], s)
					}
					if recursive {
						a.recursive = append(a.recursive, s)
					}
				}
			}
			for k, e := range v {
				walk(e, ptr+"/"+escapePointer(k))
			}
		case []any:
			for i, e := range v {
				walk(e, ptr+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(doc, "")
	return a
}

// inPlace lists the subschemas s may apply to the same value: references,
// combinators, conditions and dependent schemas. A schema one of its
// references may resolve to is listed once.
func (a anchors) inPlace(s *jsonschema.Schema) []*jsonschema.Schema {
	var out []*jsonschema.Schema
	seen := map[*jsonschema.Schema]bool{}
	add := func(list ...*jsonschema.Schema) {
		for _, c := range list {
			if c != nil {
				out = append(out, c)
			}
		}
	}
	// addOnce adds the targets of one reference: each schema once.
	addOnce := func(list ...*jsonschema.Schema) {
		clear(seen)
		for _, c := range list {
			if c != nil && !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	add(s.Ref, s.Not, s.If, s.Then, s.Else)
	add(s.AllOf...)
	add(s.AnyOf...)
	add(s.OneOf...)
	if r := s.RecursiveRef; r != nil {
		if r.RecursiveAnchor {
			addOnce(append([]*jsonschema.Schema{r}, a.recursive...)...)
		} else {
			add(r)
		}
	}
	if d := s.DynamicRef; d != nil {
		if d.Anchor != "" && d.Ref.DynamicAnchor == d.Anchor {
			addOnce(append([]*jsonschema.Schema{d.Ref}, a.dynamic[d.Anchor]...)...)
		} else {
			add(d.Ref)
		}
	}
	for _, c := range s.DependentSchemas {
		add(c)
	}
	for _, dep := range s.Dependencies {
		if c, ok := dep.(*jsonschema.Schema); ok {
			add(c)
		}
	}
	return out
}

// inside lists every subschema s may apply to a value inside the value it
// validates (a property, an item, a property name, decoded content), as if
// every one of them applied.
func inside(s *jsonschema.Schema) []*jsonschema.Schema {
	var out []*jsonschema.Schema
	add := func(list ...*jsonschema.Schema) {
		for _, c := range list {
			if c != nil {
				out = append(out, c)
			}
		}
	}
	for _, c := range s.Properties {
		add(c)
	}
	for _, c := range s.PatternProperties {
		add(c)
	}
	add(asSchema(s.AdditionalProperties), s.PropertyNames, s.UnevaluatedProperties)
	if items, ok := s.Items.([]*jsonschema.Schema); ok {
		add(items...)
	}
	add(asSchema(s.Items), asSchema(s.AdditionalItems))
	add(s.PrefixItems...)
	add(s.Items2020, s.Contains, s.UnevaluatedItems, s.ContentSchema)
	return out
}

// asSchema is v when it is a schema (keywords that also take a boolean or
// a list), else nil.
func asSchema(v any) *jsonschema.Schema {
	s, _ := v.(*jsonschema.Schema)
	return s
}

// weight is the work of applying s to one value, beyond descending: one
// step, plus one for each value enum compares and each name required
// checks.
func weight(s *jsonschema.Schema) int {
	n := 1 + len(s.Required)
	if s.Enum != nil {
		n += len(s.Enum.Values)
	}
	for _, names := range s.DependentRequired {
		n += len(names)
	}
	return n
}

// escapePointer escapes a key as a JSON Pointer token (RFC 6901) inside a
// URL fragment, which the library unescapes before reading the pointer.
func escapePointer(k string) string {
	return url.PathEscape(strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1"))
}
