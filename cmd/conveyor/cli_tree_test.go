package main

import (
	"bytes"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/conveyor/conveyor/sdk"
)

// TestRunShowsTheGraphLevelByLevel: `conveyor run` lists a diamond's steps
// by level, each below what it needs, with what it needs beside it.
func TestRunShowsTheGraphLevelByLevel(t *testing.T) {
	p := sdk.Pipeline{Steps: []sdk.Step{
		{ID: "publish", Driver: "d", Needs: []string{"unit", "lint"}},
		{ID: "checkout", Driver: "d", Needs: []string{}},
		{ID: "unit", Driver: "d", Needs: []string{"checkout"}},
		{ID: "lint", Driver: "d", Needs: []string{"checkout"}},
	}}
	r := sdk.Run{ID: "r", Status: "running", Pipeline: p}
	for _, s := range p.Steps {
		r.Steps = append(r.Steps, sdk.RunStep{ID: s.ID, Driver: s.Driver, Status: "pending"})
	}
	var out bytes.Buffer
	tw := tabwriter.NewWriter(&out, 0, 4, 2, ' ', 0)
	runTable(tw, r)
	_ = tw.Flush()
	lines := strings.Split(out.String(), "\n")[1:5]
	for i, want := range []string{"checkout ", "└ unit ", "└ lint ", "  └ publish "} {
		if !strings.HasPrefix(lines[i], want) {
			t.Fatalf("run table:\n%s\nrow %d is %q, want it to start %q", out.String(), i+1, lines[i], want)
		}
	}
	if !strings.Contains(out.String(), "  └ publish  unit,lint") {
		t.Errorf("the join is not one level deeper, with both needs:\n%s", out.String())
	}
}
