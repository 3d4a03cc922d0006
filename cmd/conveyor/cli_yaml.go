package main

import (
	"encoding/json"
	"errors"
	"fmt"

	yaml "go.yaml.in/yaml/v3"
)

// yamlToJSON turns one YAML document into JSON with YAML 1.2's reading of
// plain words: only true and false are booleans. YAML 1.1 (the reading of
// the usual YAML-to-JSON converters) also takes y, n, yes, no, on and off
// for booleans, so a step parameter named n arrived as "false", and
// `on: push` as `"true": "push"`. Keys stay as written, whatever they look
// like (1, true, 2026-01-02); so do dates and times among the values,
// which are not turned into another layout.
func yamlToJSON(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	budget := yamlNodeBudget
	v, err := yamlValue(&doc, &budget)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// yamlNodeBudget bounds the nodes one document may expand to, aliases
// followed: a few aliases of aliases can otherwise stand for billions.
const yamlNodeBudget = 1_000_000

var errYAMLTooLarge = errors.New("the document expands to more than a million values (aliases of aliases?)")

func yamlValue(n *yaml.Node, budget *int) (any, error) {
	if *budget--; *budget < 0 {
		return nil, errYAMLTooLarge
	}
	switch n.Kind {
	case 0: // an empty document
		return nil, nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return yamlValue(n.Content[0], budget)
	case yaml.AliasNode:
		return yamlValue(n.Alias, budget)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlValue(c, budget)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return yamlMapping(n, budget)
	case yaml.ScalarNode:
		if n.Tag == "!!timestamp" {
			return n.Value, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// yamlMapping is a mapping's keys and values; the keys of merged mappings
// (<<: *base) come first, so that the mapping's own keys win.
func yamlMapping(n *yaml.Node, budget *int) (map[string]any, error) {
	out := map[string]any{}
	var own [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: a key must be a plain value", k.Line)
		}
		if k.Tag != "!!merge" {
			own = append(own, [2]*yaml.Node{k, v})
			continue
		}
		merged, err := yamlValue(v, budget)
		if err != nil {
			return nil, err
		}
		for _, m := range mergedMappings(merged) {
			for mk, mv := range m {
				out[mk] = mv
			}
		}
	}
	for _, kv := range own {
		v, err := yamlValue(kv[1], budget)
		if err != nil {
			return nil, err
		}
		out[kv[0].Value] = v
	}
	return out, nil
}

// mergedMappings are the mappings a merge key names: one, or a list.
func mergedMappings(v any) []map[string]any {
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}
	case []any:
		var out []map[string]any
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}
