package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// counterDefinition is a type whose schema the form is built from.
var counterDefinition = map[string]any{
	"name": "counter",
	"schema": map[string]any{"type": "object", "required": []string{"n"},
		"properties": map[string]any{
			"n":      map[string]any{"type": "integer", "minimum": 1},
			"branch": map[string]any{"type": "string"},
		}},
}

// pick chooses value in the select sel as a user does: the value, then the
// change event the page listens to.
func pick(sel, value string) chromedp.Action {
	return chromedp.Evaluate(`(() => { const s = document.querySelector(`+strconv.Quote(sel)+`); s.value = `+strconv.Quote(value)+`;
		s.dispatchEvent(new Event("change", { bubbles: true })); return s.value; })()`, nil)
}

// emptyInput empties the input sel, as selecting its text and deleting it does.
func emptyInput(sel string) chromedp.Action {
	return chromedp.Evaluate(`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`); e.value = "";
		e.dispatchEvent(new Event("input", { bubbles: true })); return e.value; })()`, nil)
}

// TestUIResourceFormShowsTheErrorAtTheField: the form built from the
// definition's schema sends what the user typed; the server's refusal is
// shown at the field it names, nothing is written, and the corrected form
// creates the resource.
func TestUIResourceFormShowsTheErrorAtTheField(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", counterDefinition)
	signIn(t, ctx, s)

	const nInput, nError = `[data-location="body.spec.n"]`, `#f-body-spec-n-error`
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/resources/counter/new"),
		chromedp.WaitVisible(`[data-location="body.name"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-location="body.spec.branch"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the form: %v", err)
	}
	var nType string
	if err := chromedp.Run(ctx, chromedp.AttributeValue(nInput, "type", &nType, nil, chromedp.ByQuery)); err != nil || nType != "number" {
		t.Fatalf("the input of the integer n is of type %q (%v), want number", nType, err)
	}
	before := s.snapshot()
	// Without n: the server names the missing property at body.spec; the
	// page shows it at n's input.
	var missing string
	if err := chromedp.Run(ctx,
		chromedp.SendKeys(`[data-location="body.name"]`, "c-1", chromedp.ByQuery),
		chromedp.Click("#save", chromedp.ByID),
		chromedp.WaitVisible(nError, chromedp.ByQuery),
		chromedp.Text(nError, &missing, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the refusal of a spec without n: %v", err)
	}
	if !strings.Contains(missing, "missing property 'n'") {
		t.Errorf("without n, next to n the page shows %q", missing)
	}
	var shown, invalid, describedBy, top string
	var ok bool
	if err := chromedp.Run(ctx,
		chromedp.SendKeys(nInput, "0", chromedp.ByQuery),
		chromedp.SendKeys(`[data-location="body.spec.branch"]`, "main", chromedp.ByQuery),
		chromedp.Click("#save", chromedp.ByID),
		chromedp.Poll(`!document.querySelector("`+nError+`").hidden && !document.querySelector("`+nError+`").textContent.includes("missing")`, nil),
		chromedp.Text(nError, &shown, chromedp.ByQuery),
		chromedp.AttributeValue(nInput, "aria-invalid", &invalid, &ok, chromedp.ByQuery),
		chromedp.AttributeValue(nInput, "aria-describedby", &describedBy, nil, chromedp.ByQuery),
		chromedp.Text("#form-problem", &top, chromedp.ByID),
	); err != nil {
		t.Fatalf("the refusal at the field: %v", err)
	}
	screenshot(t, ctx, "resource-form-refused")

	// The message is the server's own: the same body through the API is
	// refused with it, at body.spec.n.
	status, problem := s.call("POST", "/resources", map[string]any{"name": "c-1", "resource": "counter", "spec": map[string]any{"n": 0, "branch": "main"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("the API answered %d to n = 0: %v", status, problem)
	}
	want := ""
	for _, e := range problem["errors"].([]any) {
		if d := e.(map[string]any); d["location"] == "body.spec.n" {
			want = d["message"].(string)
		}
	}
	if want == "" || strings.TrimSpace(shown) != want {
		t.Errorf("next to n the page shows %q, the server says %q", shown, want)
	}
	if !ok || invalid != "true" {
		t.Errorf("the n input has aria-invalid=%q (present: %v), want true", invalid, ok)
	}
	if describedBy != strings.TrimPrefix(nError, "#") {
		t.Errorf("the n input is described by %q, not its error", describedBy)
	}
	if !strings.Contains(top, problem["detail"].(string)) {
		t.Errorf("the top of the form shows %q, not the problem's detail %q", top, problem["detail"])
	}
	if st, _ := s.call("GET", "/resources/counter/c-1", nil); st != http.StatusNotFound {
		t.Errorf("after the refused submit, GET of the resource answers %d, want 404", st)
	}
	s.unchanged(before, "the refused submit")

	// Corrected, the form creates it and shows its page.
	var spec string
	if err := chromedp.Run(ctx,
		emptyInput(nInput),
		chromedp.SendKeys(nInput, "3", chromedp.ByQuery),
		chromedp.Click("#save", chromedp.ByID),
		chromedp.WaitVisible("#spec", chromedp.ByID),
		chromedp.Text("#spec", &spec, chromedp.ByID),
	); err != nil {
		t.Fatalf("the corrected submit: %v", err)
	}
	if !strings.Contains(spec, `"n": 3`) || !strings.Contains(spec, `"branch": "main"`) {
		t.Errorf("the resource page shows the spec %q", spec)
	}
	got := s.must(http.StatusOK, "GET", "/resources/counter/c-1", nil)
	if sp := got["spec"].(map[string]any); sp["n"] != float64(3) || sp["branch"] != "main" {
		t.Errorf("stored spec: %v", sp)
	}
	screenshot(t, ctx, "resource-created")
}

// TestUIResourceHistoryAndDiff: a resource replaced once shows two
// versions, the first linked to the run it started, and the line diff of
// any two of them.
func TestUIResourceHistoryAndDiff(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	runID := s.must(http.StatusCreated, "POST", "/resources", buildResource("app-1", "v1"))["runid"].(string)
	s.must(http.StatusOK, "PUT", "/resources/build/app-1", buildResource("app-1", "v2"), "If-Match", `"1"`)
	signIn(t, ctx, s)

	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/resources/build/app-1"),
		chromedp.WaitVisible(`#versions tr[data-version="2"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#versions tr[data-version="1"] a[href="#/runs/`+runID+`"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the versions: %v", err)
	}
	var rows int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll("#versions tr").length`, &rows)); err != nil || rows != 2 {
		t.Fatalf("%d version rows (%v), want 2", rows, err)
	}
	diffOf := func(class string) string {
		t.Helper()
		var lines []string
		if err := chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll("#diff .`+class+`")].map(e => e.textContent)`, &lines)); err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	// Backwards first: from version 2 to version 1.
	if err := chromedp.Run(ctx, pick("#diff-from", "2"), pick("#diff-to", "1")); err != nil {
		t.Fatal(err)
	}
	if add, del := diffOf("diff-add"), diffOf("diff-del"); !strings.Contains(add, `"ref": "v1"`) || !strings.Contains(del, `"ref": "v2"`) {
		t.Errorf("diff 2 → 1: added %q, removed %q", add, del)
	}
	if err := chromedp.Run(ctx, pick("#diff-from", "1"), pick("#diff-to", "2")); err != nil {
		t.Fatal(err)
	}
	add, del, same := diffOf("diff-add"), diffOf("diff-del"), diffOf("diff-same")
	if !strings.HasPrefix(add, "+") || !strings.Contains(add, `"ref": "v2"`) || strings.Contains(add, "repo") {
		t.Errorf("diff 1 → 2 added %q, want only the new ref", add)
	}
	if !strings.HasPrefix(del, "-") || !strings.Contains(del, `"ref": "v1"`) || strings.Contains(del, "repo") {
		t.Errorf("diff 1 → 2 removed %q, want only the old ref", del)
	}
	if !strings.Contains(same, `"repo": "https://example.com/app.git"`) {
		t.Errorf("the unchanged lines are %q", same)
	}
	screenshot(t, ctx, "resource-diff")
	// The same version on both sides: nothing changed.
	if err := chromedp.Run(ctx, pick("#diff-from", "2")); err != nil {
		t.Fatal(err)
	}
	if add, del := diffOf("diff-add"), diffOf("diff-del"); add != "" || del != "" {
		t.Errorf("a version against itself: added %q, removed %q", add, del)
	}

	// Edit: the form holds the spec read; saving replaces it with a third
	// version, guarded by the version read.
	const ref = `[data-location="body.spec.ref"]`
	var value string
	if err := chromedp.Run(ctx,
		chromedp.Click("#edit", chromedp.ByID),
		chromedp.WaitVisible(ref, chromedp.ByQuery),
		chromedp.Value(ref, &value, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the edit form: %v", err)
	}
	if value != "v2" {
		t.Errorf("the edit form holds ref %q, want v2", value)
	}
	if err := chromedp.Run(ctx,
		emptyInput(ref),
		chromedp.SendKeys(ref, "v3", chromedp.ByQuery),
		chromedp.Click("#save", chromedp.ByID),
		chromedp.WaitVisible(`#versions tr[data-version="3"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("saving the edit: %v", err)
	}
	got := s.must(http.StatusOK, "GET", "/resources/build/app-1", nil)
	if got["spec"].(map[string]any)["ref"] != "v3" || got["pipeline"] != "ci" || got["metadata"].(map[string]any)["version"] != "3" {
		t.Errorf("after the edit: %v", got)
	}
}

// TestUIDefinitionAndResourceList: a definition's page lists its properties,
// nested ones under their parent; the resources of a type are listed a
// page at a time.
func TestUIDefinitionAndResourceList(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "deploy", "description": "A deployment",
		"schema": map[string]any{"type": "object", "required": []string{"env"},
			"properties": map[string]any{
				"env":  map[string]any{"type": "string", "enum": []string{"staging", "production"}},
				"opts": map[string]any{"type": "object", "properties": map[string]any{"depth": map[string]any{"type": "integer", "minimum": 1, "description": "how deep"}}},
				"tags": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			}}})
	for i := range 27 {
		s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": fmt.Sprintf("d-%02d", i), "resource": "deploy",
			"spec": map[string]any{"env": "staging"}})
	}
	signIn(t, ctx, s)
	var cells []string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/definitions/deploy"),
		chromedp.WaitVisible(`#properties tr[data-property="opts.depth"]`, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("#properties tbody tr")].map(r => [...r.cells].map(c => c.innerText).join("|"))`, &cells),
	); err != nil {
		t.Fatalf("the definition page: %v", err)
	}
	joined := strings.Join(cells, "\n")
	for _, want := range []string{"env|string|yes|", "one of: \"staging\", \"production\"", "opts|object||", "opts.depth|integer||how deep", "minimum 1", "tags|array of string||"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the properties table lacks %q:\n%s", want, joined)
		}
	}
	var indent [2]float64
	if err := chromedp.Run(ctx, chromedp.Evaluate(`[document.querySelector('tr[data-property="opts"] td'), document.querySelector('tr[data-property="opts.depth"] td')].map(c => parseFloat(getComputedStyle(c).paddingLeft))`, &indent)); err != nil {
		t.Fatal(err)
	}
	if indent[1] <= indent[0] {
		t.Errorf("opts.depth is indented %vpx, its parent %vpx", indent[1], indent[0])
	}
	screenshot(t, ctx, "definition")

	rows := func() int {
		var n int
		if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll("#resources tr[data-resource]").length`, &n)); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := chromedp.Run(ctx, chromedp.Navigate(s.at.API+"/#/resources/deploy"), chromedp.WaitVisible(`tr[data-resource="d-00"]`, chromedp.ByQuery)); err != nil {
		t.Fatalf("the resources of deploy: %v", err)
	}
	if n := rows(); n != 25 {
		t.Errorf("the first page has %d rows, want 25", n)
	}
	screenshot(t, ctx, "resources")
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible("#next-page", chromedp.ByID),
		chromedp.Click("#next-page", chromedp.ByID),
		chromedp.WaitVisible(`tr[data-resource="d-26"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the next page: %v", err)
	}
	if n := rows(); n != 2 {
		t.Errorf("the second page has %d rows, want 2", n)
	}
}

// TestUIPipelineDrawn: a diamond (a; b and c need a; d needs both) is
// drawn in three columns, b and c side by side in the middle one.
func TestUIPipelineDrawn(t *testing.T) {
	ctx := browser(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "diamond", "resource": "build",
		"steps": []map[string]any{
			{"id": "a", "driver": "compiler"},
			{"id": "b", "driver": "tester", "needs": []string{"a"}, "timeout": "5m"},
			{"id": "c", "driver": "linter", "needs": []string{"a"}, "retry": map[string]any{"attempts": 3}},
			{"id": "d", "type": "approval", "needs": []string{"b", "c"}},
		}})
	signIn(t, ctx, s)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(s.at.API+"/#/pipelines/diamond"),
		chromedp.WaitVisible(`.step-box[data-step="d"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("the graph: %v", err)
	}
	type box struct {
		Level string
		X, Y  float64
		Text  string
	}
	var boxes map[string]box
	if err := chromedp.Run(ctx, chromedp.Evaluate(`Object.fromEntries([...document.querySelectorAll("#graph .step-box")].map(b => {
		const r = b.getBoundingClientRect();
		return [b.dataset.step, { level: b.closest(".level").dataset.level, x: r.left, y: r.top, text: b.innerText }];
	}))`, &boxes)); err != nil {
		t.Fatal(err)
	}
	if len(boxes) != 4 {
		t.Fatalf("boxes: %v", boxes)
	}
	a, b, c, d := boxes["a"], boxes["b"], boxes["c"], boxes["d"]
	if a.Level != "0" || b.Level != "1" || c.Level != "1" || d.Level != "2" {
		t.Errorf("levels a %s, b %s, c %s, d %s; want 0, 1, 1, 2", a.Level, b.Level, c.Level, d.Level)
	}
	if !(a.X < b.X && b.X == c.X && c.X < d.X) || b.Y == c.Y {
		t.Errorf("positions a %v, b %v, c %v, d %v: want b and c in one column between a and d", a, b, c, d)
	}
	if !strings.Contains(d.Text, "approval") || !strings.Contains(b.Text, "timeout 5m") || !strings.Contains(c.Text, "retry 3") || !strings.Contains(d.Text, "needs b, c") {
		t.Errorf("box texts: a %q, b %q, c %q, d %q", a.Text, b.Text, c.Text, d.Text)
	}
	screenshot(t, ctx, "pipeline")
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	screenshot(t, ctx, "pipeline-narrow")
}
