package main

import (
	"bytes"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/conveyor/conveyor/sdk"
)

// TestQueuedRunsSayWhereTheyWait: `conveyor runs` and `conveyor run` show
// a queued run's place in its concurrency group.
func TestQueuedRunsSayWhereTheyWait(t *testing.T) {
	r := sdk.Run{ID: "r", Status: "queued", Pipeline: sdk.Pipeline{Name: "deploys", Steps: []sdk.Step{{ID: "ship", Driver: "d"}}},
		Steps:       []sdk.RunStep{{ID: "ship", Driver: "d", Status: "pending"}},
		Concurrency: &sdk.RunConcurrency{Group: "deploy-prod", Limit: 1, OnFull: "queue", Position: 2}}
	want := `position 2 in concurrency group "deploy-prod"`
	for name, show := range map[string]func(*tabwriter.Writer){
		"runs": func(tw *tabwriter.Writer) { runsTable(tw, []sdk.Run{r}) },
		"run":  func(tw *tabwriter.Writer) { runTable(tw, r) },
	} {
		var out bytes.Buffer
		tw := tabwriter.NewWriter(&out, 0, 4, 2, ' ', 0)
		show(tw)
		_ = tw.Flush()
		if !strings.Contains(out.String(), want) {
			t.Errorf("conveyor %s:\n%s\nlacks %q", name, out.String(), want)
		}
	}
	if r.Ended() {
		t.Errorf("a queued run counts as ended")
	}
}
