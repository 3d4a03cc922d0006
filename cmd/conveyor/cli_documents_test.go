package main

import (
	"strings"
	"testing"
)

// TestCLIGetApplyRoundTrip: what get writes as YAML or JSON, one object or
// a list, apply takes back.
func TestCLIGetApplyRoundTrip(t *testing.T) {
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	file := "kind: ResourceDefinition\nname: build\nschema: {type: object}\n---\nkind: Pipeline\nname: ci\nresource: build\nsteps: [{id: a, driver: absent}]\n---\nkind: Resource\nname: app-1\nresource: build\nspec: {ref: abc}\n---\nkind: Resource\nname: app-2\nresource: build\nspec: {ref: def}\n"
	if code, out, errOut := cliRun(t, server, file, "apply", "-f", "-"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	for _, get := range [][]string{{"definitions", "build"}, {"pipelines", "ci"}, {"resources", "build/app-1"},
		{"definitions"}, {"pipelines"}, {"resources"}} {
		for _, format := range []string{"yaml", "json"} {
			code, doc, errOut := cliRun(t, server, "", append(append([]string{"get"}, get...), "-o", format)...)
			if code != 0 || !strings.Contains(doc, "kind") {
				t.Fatalf("get %v -o %s: exit %d\n%s%s", get, format, code, doc, errOut)
			}
			if code, out, errOut := cliRun(t, server, doc, "apply", "-f", "-"); code != 0 || out == "" {
				t.Errorf("get %v -o %s | apply -f -: exit %d\n%s%s\n%s", get, format, code, out, errOut, doc)
			}
		}
	}
}
