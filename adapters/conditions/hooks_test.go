package conditions_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/conveyor/conveyor/adapters/conditions"
	"github.com/conveyor/conveyor/domain"
)

func hookInput() domain.HookInput {
	return domain.HookInput{
		"headers": map[string]any{"x-github-event": "push"},
		"body":    map[string]any{"ref": "refs/heads/main", "after": "abc123", "repository": map[string]any{"clone_url": "https://git.example/app.git"}},
		"event":   "push",
	}
}

func TestHooksEvaluateValuesAsJSON(t *testing.T) {
	h, err := conditions.NewHooks()
	if err != nil {
		t.Fatal(err)
	}
	for expr, want := range map[string]string{
		`body.after`:                                 `"abc123"`,
		`"app-" + body.after.substring(0, 3)`:        `"app-abc"`,
		`body.ref.startsWith("refs/heads/")`:         `true`,
		`{"url": body.repository.clone_url, "n": 2}`: `{"n":2,"url":"https://git.example/app.git"}`,
		`headers["x-github-event"] + ":" + event`:    `"push:push"`,
		`[body.after]`:                               `["abc123"]`,
	} {
		got, err := h.Value(expr, hookInput())
		if err != nil || compactJSON(t, got) != want {
			t.Errorf("%s: %s, %v; want %s", expr, got, err, want)
		}
	}
	ok, err := h.Condition(`event == "push" && body.ref == "refs/heads/main"`, hookInput())
	if !ok || err != nil {
		t.Errorf("condition: %v, %v; want true", ok, err)
	}
}

func TestHooksRefuseWhatCannotWork(t *testing.T) {
	h, err := conditions.NewHooks()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.CheckValue(`body.`); err == nil {
		t.Error("a syntax error compiled")
	}
	if err := h.CheckCondition(`"a" + "b"`); err == nil {
		t.Error("a string was taken as a condition")
	}
	if err := h.CheckValue(`resource.name`); err == nil {
		t.Error("a variable triggers do not see compiled")
	}
	if _, err := h.Value(`body.missing`, hookInput()); err == nil {
		t.Error("a missing field gave a value")
	}
}

// compactJSON is raw without spaces, for comparing.
func compactJSON(t *testing.T, raw []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}
