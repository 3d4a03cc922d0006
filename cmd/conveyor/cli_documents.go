package main

import (
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"
)

// applyKinds are the kinds apply reads, by the kind get names them.
var applyKinds = map[string]string{"definition": "ResourceDefinition", "pipeline": "Pipeline", "resource": "Resource", "trigger": "Trigger"}

// listKind is the kind of a JSON document that holds others in "items", as
// `get -o json` writes a list.
const listKind = "List"

// writeDocuments writes v, one object or a list of kind, as documents apply
// reads back: each object with its kind; a list as a YAML stream (---
// between documents) or a JSON List.
func writeDocuments(w io.Writer, format, kind string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var objects []map[string]any
	single := len(data) > 0 && data[0] == '{'
	if single {
		var o map[string]any
		err = json.Unmarshal(data, &o)
		objects = append(objects, o)
	} else {
		err = json.Unmarshal(data, &objects)
	}
	if err != nil {
		return err
	}
	for _, o := range objects {
		o["kind"] = kind
	}
	if format == "json" {
		var doc any = map[string]any{"kind": listKind, "items": objects}
		if single {
			doc = objects[0]
		}
		return output(w, format, doc, nil)
	}
	for i, o := range objects {
		if i > 0 {
			fmt.Fprintln(w, "---")
		}
		out, err := yaml.Marshal(o)
		if err != nil {
			return err
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	return nil
}
