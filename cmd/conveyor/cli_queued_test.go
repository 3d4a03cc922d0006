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

// TestRunsSayWhoStartedThem: `conveyor runs` has a BY column and
// `conveyor run` a line naming who made the change that started the run,
// with the delivery's event, commit and branch for a trigger's; a run
// whose starter is not known shows "-" and no such line.
func TestRunsSayWhoStartedThem(t *testing.T) {
	by := sdk.Run{ID: "r", Status: "running", Trigger: "update", Pipeline: sdk.Pipeline{Name: "ci"},
		StartedBy: &sdk.Actor{Kind: "trigger", Name: "github-app"},
		Origin:    &sdk.RunOrigin{Event: "push", Commit: "1a2b3c4d5e6f", Ref: "refs/heads/main"}}
	unknown := sdk.Run{ID: "u", Status: "running", Trigger: "create", Pipeline: sdk.Pipeline{Name: "ci"}}
	show := func(f func(*tabwriter.Writer)) string {
		var out bytes.Buffer
		tw := tabwriter.NewWriter(&out, 0, 4, 2, ' ', 0)
		f(tw)
		_ = tw.Flush()
		return out.String()
	}
	runs := show(func(tw *tabwriter.Writer) { runsTable(tw, []sdk.Run{by, unknown}) })
	lines := strings.Split(strings.TrimSpace(runs), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], "BY") || !strings.HasSuffix(lines[1], "trigger github-app (push 1a2b3c4 on main)") ||
		!strings.HasSuffix(lines[2], "-") {
		t.Errorf("conveyor runs:\n%s", runs)
	}
	if out := show(func(tw *tabwriter.Writer) { runTable(tw, by) }); !strings.Contains(out, "by trigger github-app (update): push 1a2b3c4 on main") {
		t.Errorf("conveyor run:\n%s\nlacks who started it", out)
	}
	if out := show(func(tw *tabwriter.Writer) { runTable(tw, unknown) }); strings.Contains(out, "started ") {
		t.Errorf("conveyor run of a run whose starter is unknown:\n%s", out)
	}
}

// TestQueuedStepsSayWhereTheyWait: `conveyor runs`, `conveyor run` and the
// lines that follow a run show a step that waits for a place in its
// concurrency group, and where.
func TestQueuedStepsSayWhereTheyWait(t *testing.T) {
	r := sdk.Run{ID: "r", Status: "running", Pipeline: sdk.Pipeline{Name: "release", Steps: []sdk.Step{{ID: "build", Driver: "b"}, {ID: "deploy", Driver: "d"}}},
		Steps: []sdk.RunStep{{ID: "build", Driver: "b", Status: "succeeded"},
			{ID: "deploy", Driver: "d", Status: "queued", Reason: `waits for a place in concurrency group "deploy-prod" (limit 1)`,
				Concurrency: &sdk.RunConcurrency{Group: "deploy-prod", Limit: 1, OnFull: "queue", Position: 2}}}}
	for name, c := range map[string]struct {
		show func(*tabwriter.Writer)
		want string
	}{
		"runs": {func(tw *tabwriter.Writer) { runsTable(tw, []sdk.Run{r}) }, `running (step deploy queued, position 2 in concurrency group "deploy-prod")`},
		"run":  {func(tw *tabwriter.Writer) { runTable(tw, r) }, `waits for a place in concurrency group "deploy-prod" (limit 1), position 2`},
	} {
		var out bytes.Buffer
		tw := tabwriter.NewWriter(&out, 0, 4, 2, ' ', 0)
		c.show(tw)
		_ = tw.Flush()
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("conveyor %s:\n%s\nlacks %q", name, out.String(), c.want)
		}
	}
	e := sdk.Event{Type: "StepQueued.v1", Raw: []byte(`{"step":"deploy","concurrency":{"group":"deploy-prod","limit":1,"onFull":"queue"}}`)}
	if got, want := runEventLine(e), `deploy queued: waits for a place in concurrency group "deploy-prod" (limit 1)`; got != want {
		t.Errorf("the line of StepQueued: %q, want %q", got, want)
	}
}
