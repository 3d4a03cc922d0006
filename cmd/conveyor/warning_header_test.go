package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/conveyor/conveyor/sdk"
)

// TestWarningHeaderBounded: a pipeline of 10,000 steps naming drivers never
// seen answers headers a client can read: Conveyor-Warning lists the
// first warnings and how many more, the body lists every one, and the SDK
// client gets them all.
func TestWarningHeaderBounded(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	const n = 10000
	steps := make([]sdk.Step, n)
	for i := range steps {
		steps[i] = sdk.Step{ID: fmt.Sprintf("s%d", i), Driver: fmt.Sprintf("never-seen-%d", i)}
	}
	status, header, raw := s.send("POST", "/pipelines", "", map[string]any{"name": "wide", "resource": "build", "steps": steps},
		"Content-Type", "application/json")
	if status != http.StatusCreated {
		t.Fatalf("status %d, want 201: %.300s", status, raw)
	}
	for name, values := range header {
		for _, v := range values {
			if len(v) > 1024 {
				t.Errorf("header %s: %d bytes", name, len(v))
			}
		}
	}
	warning := header.Get("Conveyor-Warning")
	if !strings.HasPrefix(warning, `step s0: driver "never-seen-0" has never connected`) ||
		!strings.Contains(warning, `and 99`) || !strings.HasSuffix(warning, `more steps name drivers never connected: see "warnings" in the body`) {
		t.Errorf("Conveyor-Warning %q", warning)
	}
	var body struct {
		Name     string   `json:"name"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		t.Fatal(err)
	}
	if body.Name != "wide" || len(body.Warnings) != n || !strings.Contains(body.Warnings[n-1], `"never-seen-9999"`) {
		t.Errorf("body: name %q, %d warnings", body.Name, len(body.Warnings))
	}

	client, err := sdk.NewClient(sdk.WithBaseURL(s.at.API), sdk.WithToken(s.token))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := client.ApplyPipeline(context.Background(), sdk.Pipeline{Name: "wide", Resource: "build", Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	if len(saved.Warnings) != n || !saved.Unchanged {
		t.Errorf("the SDK read %d warnings (unchanged %v), want %d", len(saved.Warnings), saved.Unchanged, n)
	}
}
