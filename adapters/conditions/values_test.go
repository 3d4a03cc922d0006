package conditions_test

import (
	"strings"
	"testing"

	"github.com/conveyor/conveyor/adapters/conditions"
)

func TestValuesAreJSON(t *testing.T) {
	c, err := conditions.New()
	if err != nil {
		t.Fatal(err)
	}
	for expr, want := range map[string]string{
		`resource.spec.ref`:                      `"main"`,
		`resource.spec.files`:                    `12`,
		`resource.spec.files * 2.0`:              `24`,
		`1 + 2`:                                  `3`,
		`results.test.success`:                   `true`,
		`[resource.name, pipeline.name]`:         `["app-1","ci"]`,
		`{"env": pipeline.metadata.env}`:         `{"env":"prod"}`,
		`"v" + string(int(resource.spec.files))`: `"v12"`,
		`null`:                                   `null`,
	} {
		got, err := c.Value(expr, input())
		if err != nil || strings.Join(strings.Fields(string(got)), "") != want {
			t.Errorf("%s: %s, %v; want %s", expr, got, err, want)
		}
	}
	for expr, want := range map[string]string{
		`resource.spec.ref +`: "Syntax error",
		`nosuch`:              "undeclared reference",
	} {
		if err := c.CheckValue(expr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckValue(%s) = %v, want %q", expr, err, want)
		}
	}
	if _, err := c.Value(`resource.spec.missing`, input()); err == nil || !strings.Contains(err.Error(), "no such key") {
		t.Errorf("a missing key: %v, want an error naming it", err)
	}
}
