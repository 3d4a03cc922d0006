package conditions_test

import (
	"strings"
	"testing"

	"github.com/conveyor/conveyor/adapters/conditions"
	"github.com/conveyor/conveyor/domain"
)

func input() domain.ConditionInput {
	return domain.ConditionInput{
		"resource": map[string]any{"name": "app-1", "spec": map[string]any{"ref": "main", "files": float64(12)}, "metadata": map[string]any{}},
		"pipeline": map[string]any{"name": "ci", "metadata": map[string]any{"env": "prod"}},
		"run":      map[string]any{"id": "r", "trigger": "create"},
		"results":  map[string]any{"test": map[string]any{"success": true, "data": map[string]any{"coverage": float64(91)}}},
	}
}

func TestConditionsEvaluate(t *testing.T) {
	c, err := conditions.New()
	if err != nil {
		t.Fatal(err)
	}
	for expr, want := range map[string]bool{
		`resource.spec.ref == "main"`:                                true,
		`resource.spec.ref.startsWith("release/")`:                   false,
		`results.test.data.coverage > 80.0`:                          true,
		`pipeline.metadata.env == "prod" && run.trigger == "create"`: true,
		`has(resource.spec.skip) && resource.spec.skip`:              false,
	} {
		got, err := c.Eval(expr, input())
		if err != nil || got != want {
			t.Errorf("%s: %v, %v; want %v", expr, got, err, want)
		}
	}
}

func TestConditionsRefuseWhatCannotWork(t *testing.T) {
	c, err := conditions.New()
	if err != nil {
		t.Fatal(err)
	}
	for expr, want := range map[string]string{
		`resource.spec.ref ==`: "Syntax error",
		`1 + 2`:                "must be true or false",
		`nosuch == 1`:          "undeclared reference",
	} {
		if err := c.Check(expr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check(%s) = %v, want %q", expr, err, want)
		}
	}
	if _, err := c.Eval(`resource.spec.missing == "x"`, input()); err == nil || !strings.Contains(err.Error(), "no such key") {
		t.Errorf("a missing key: %v, want an error naming it", err)
	}
	if _, err := c.Eval(`resource.spec.files`, input()); err == nil || !strings.Contains(err.Error(), "not true or false") {
		t.Errorf("a dynamic non-boolean: %v", err)
	}
	heavy := `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a+b+c+d+e+f > 0))))))`
	if _, err := c.Eval(heavy, input()); err == nil || !strings.Contains(err.Error(), "cost limit") {
		t.Errorf("an expression beyond the cost limit: %v, want it stopped", err)
	}
}

// An instance of a matrix step sees its values as matrix; a step without
// one has none, and an expression naming it fails (its step fails).
func TestConditionsSeeTheMatrix(t *testing.T) {
	c, err := conditions.New()
	if err != nil {
		t.Fatal(err)
	}
	in := input()
	in["matrix"] = map[string]any{"os": "linux", "go": float64(1.26)}
	if ok, err := c.Eval(`matrix.os == "linux" && matrix.go > 1.25`, in); err != nil || !ok {
		t.Errorf("an instance's condition: %v, %v; want true", ok, err)
	}
	if v, err := c.Value(`matrix.go`, in); err != nil || string(v) != "1.26" {
		t.Errorf("matrix.go: %s, %v", v, err)
	}
	if _, err := c.Eval(`matrix.os == "linux"`, input()); err == nil {
		t.Error("matrix outside an instance evaluated; want an error")
	}
}
