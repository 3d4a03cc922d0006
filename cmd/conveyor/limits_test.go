package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/sdk"
)

// TestSizesBeyondTheLimitsAreRefused: a spec or metadata larger than what an
// event may carry is 422 naming the field and the limit, and nothing is
// written, though the body is well under --max-body.
func TestSizesBeyondTheLimitsAreRefused(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "blob", "schema": map[string]any{"type": "object"}})
	before := s.settle()
	for field, body := range map[string]map[string]any{
		"spec":     {"name": "big", "resource": "blob", "spec": map[string]any{"data": strings.Repeat("x", domain.MaxSpecBytes)}},
		"metadata": {"name": "big", "resource": "blob", "spec": map[string]any{}, "metadata": map[string]string{"note": strings.Repeat("x", domain.MaxMetadataBytes)}},
	} {
		status, raw := s.callRaw("POST", "/resources", body)
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "body."+field) || !strings.Contains(string(raw), "at most") {
			t.Errorf("%s over the limit: %d %.300s", field, status, raw)
		}
	}
	s.unchanged(before, "oversized parts")
	spec := map[string]any{"data": strings.Repeat("x", domain.MaxSpecBytes-100)}
	s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": "fits", "resource": "blob", "spec": spec})
}

// TestOversizedResultFailsTheStep: a driver's result whose data is larger
// than a result may be is recorded as a failure of the step saying why,
// so the run ends instead of waiting, and nothing too large is stored.
func TestOversizedResultFailsTheStep(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", map[string]any{"name": "blob", "schema": map[string]any{"type": "object"}})
	s.must(http.StatusCreated, "POST", "/pipelines", map[string]any{"name": "p", "resource": "blob", "steps": []map[string]any{{"id": "make", "driver": "maker"}}})
	driver := sdk.NewDriver("maker", []string{"blob"}, func(ctx context.Context, req sdk.Request) sdk.Result {
		return sdk.Result{Success: true, Message: "made", Data: map[string]any{"blob": strings.Repeat("x", domain.MaxResultDataBytes)}}
	})
	m, err := sdk.NewManager(driver, sdk.WithNATSURL(driverNATS(t, s.at, "maker")))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	runID := s.must(http.StatusCreated, "POST", "/resources", map[string]any{"name": "b1", "resource": "blob", "pipeline": "p", "spec": map[string]any{}})["runid"].(string)
	run := s.waitRun(runID)
	step := run["steps"].([]any)[0].(map[string]any)
	result, _ := step["result"].(map[string]any)
	if run["status"] != "failed" || step["status"] != "failed" || !strings.Contains(result["message"].(string), "driverresult.data: is") || result["data"] != nil {
		t.Errorf("run %v, step %v", run["status"], step)
	}
}
