package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/conveyor/conveyor/sdk"

	"github.com/spf13/cobra"
)

func runsTable(tw *tabwriter.Writer, runs []sdk.Run) {
	tableRow(tw, "ID", "PIPELINE", "RESOURCE", "STATUS", "STARTED", "BY")
	for _, r := range runs {
		status := r.Status
		if q := r.Queued(); q != "" {
			status += " (" + q + ")"
		}
		for _, s := range r.Steps {
			if s.Waiting != "" {
				status += " (" + s.Waiting + ")"
				break
			}
			if q := s.Queued(); q != "" {
				status += " (step " + s.ID + " queued, " + q + ")"
				break
			}
		}
		by := startedBy(r)
		if r.Origin != nil {
			by += " (" + r.Origin.Describe() + ")"
		}
		tableRow(tw, r.ID, r.Pipeline.Name, r.Resource.Type+"/"+r.Resource.Name, status, r.StartedAt.Local().Format(time.DateTime), by)
	}
}

// runTable shows a run's steps in pipeline order with what each needs, so
// that a graph of steps reads as one: steps that need the same step run
// side by side.
func runTable(tw *tabwriter.Writer, r sdk.Run) {
	tableRow(tw, "STEP", "NEEDS", "DRIVER", "STATUS", "ATTEMPT", "MESSAGE")
	depth := stepDepths(r.Pipeline)
	order := make([]int, len(r.Steps))
	for i := range order {
		order[i] = i
	}
	// Level by level: the steps that start the run, then those that need
	// only them, and so on; steps on one level may run side by side.
	sort.SliceStable(order, func(a, b int) bool { return depth[order[a]] < depth[order[b]] })
	for _, i := range order {
		s := r.Steps[i]
		driver := s.Driver
		if driver == "" {
			driver = "(approval)"
		}
		name := s.ID
		if depth[i] > 0 {
			name = strings.Repeat("  ", depth[i]-1) + "└ " + s.ID
		}
		tableRow(tw, name, strings.Join(shownNeeds(r, i), ","), driver, stepStatus(r, s), s.Attempt, stepNote(s))
	}
	fmt.Fprintf(tw, "\nrun %s of %s/%s (pipeline %s): %s%s\n", r.ID, r.Resource.Type, r.Resource.Name, r.Pipeline.Name,
		r.Status, messageNote(r.Message))
	if q := r.Queued(); q != "" {
		fmt.Fprintf(tw, "queued: %s\n", q)
	}
	if by := startedBy(r); by != "-" {
		fmt.Fprintf(tw, "started %s by %s (%s)", r.StartedAt.Local().Format(time.DateTime), by, r.Trigger)
		if r.Origin != nil {
			fmt.Fprintf(tw, ": %s", r.Origin.Describe())
		}
		fmt.Fprintln(tw)
	}
	for _, sr := range r.StatusReports {
		fmt.Fprintln(tw, sr.Notice())
	}
}

// startedBy is who made the change that started the run ("-" when not
// known).
func startedBy(r sdk.Run) string {
	if r.StartedBy == nil {
		return "-"
	}
	return r.StartedBy.String()
}

// stepDepths is each step's level in the graph: 0 for a step that needs
// none, else one more than the deepest step it needs.
func stepDepths(p sdk.Pipeline) []int {
	at := map[string]int{}
	for i, s := range p.Steps {
		at[s.ID] = i
	}
	depth := make([]int, len(p.Steps))
	done := make([]bool, len(p.Steps))
	var of func(i, guard int) int
	of = func(i, guard int) int {
		if done[i] || guard > len(p.Steps) {
			return depth[i]
		}
		d := 0
		for _, need := range needsOf(p, i) {
			if j, ok := at[need]; ok {
				d = max(d, of(j, guard+1)+1)
			}
		}
		depth[i], done[i] = d, true
		return d
	}
	for i := range p.Steps {
		of(i, 0)
	}
	return depth
}

// needsOf is what step i of p needs: its needs, or the step before it.
func needsOf(p sdk.Pipeline, i int) []string {
	if i >= len(p.Steps) {
		return nil
	}
	if p.Steps[i].Needs != nil {
		return p.Steps[i].Needs
	}
	if i == 0 {
		return nil
	}
	return []string{p.Steps[i-1].ID}
}

// shownNeeds is what step i of r needs as the run table shows it: the
// instances of a matrix step, when it needs them all, by the matrix step's
// id.
func shownNeeds(r sdk.Run, i int) []string {
	needs := needsOf(r.Pipeline, i)
	group, instances := map[string]string{}, map[string]int{}
	for _, s := range r.Steps {
		if s.Matrix != nil {
			group[s.ID] = s.Matrix.Group
			instances[s.Matrix.Group]++
		}
	}
	needed := map[string]int{}
	for _, n := range needs {
		if g, ok := group[n]; ok {
			needed[g]++
		}
	}
	var out []string
	for _, n := range needs {
		g, ok := group[n]
		switch {
		case !ok || needed[g] != instances[g]:
			out = append(out, n)
		case !slices.Contains(out, g):
			out = append(out, g)
		}
	}
	return out
}

// stepNote is the most telling line about a step: its result's message,
// else why it waits or was skipped.
func stepNote(s sdk.RunStep) string {
	switch {
	case s.Waiting != "":
		return s.Waiting
	case s.Result != nil:
		return s.Result.Message
	case s.Status == "queued" && s.Concurrency != nil && s.Concurrency.Position > 0:
		return fmt.Sprintf("%s, position %d", s.Reason, s.Concurrency.Position)
	}
	return s.Reason
}

// stepStatus is the status to show of a step: a step still pending in a run
// that has ended will never run, and shows as "skipped".
func stepStatus(r sdk.Run, s sdk.RunStep) string {
	if s.Status == "pending" && (r.Status == "failed" || r.Status == "cancelled") {
		return "skipped"
	}
	return s.Status
}

// runs is `conveyor runs [--resource T[/N]] [--pipeline P] [--status S]`.
func (c *cli) runsCommand() *cobra.Command {
	var run func(pos []string) int
	cmd := c.clientCommand("runs [--resource TYPE[/NAME]] [--pipeline P] [--status running|succeeded|failed|cancelled] [-o table|json|yaml]", "list runs, newest first", 0, 0, func(pos []string) int { return run(pos) })
	fs := cmd.Flags()
	var f sdk.RunFilter
	fs.StringVar(&f.Resource, "resource", "", "only runs of this resource type or TYPE/NAME")
	fs.StringVar(&f.Pipeline, "pipeline", "", "only runs of this pipeline")
	fs.StringVar(&f.Status, "status", "", "only runs in this state")
	format := outputFlag(cmd)
	run = func(pos []string) int {
		runs, err := sdk.All(c.ctx, func(ctx context.Context, p sdk.Page) (sdk.List[sdk.Run], error) {
			return c.client.Runs(ctx, f, p)
		})
		if err != nil {
			return c.fail("runs", err)
		}
		return c.show(*format, runs, func(tw *tabwriter.Writer) { runsTable(tw, runs) })
	}
	return cmd
}

// run is `conveyor run RUNID [--at TIME|POSITION]`: its steps and status,
// now or as they were then.
func (c *cli) runCommand() *cobra.Command {
	var run func(pos []string) int
	cmd := c.clientCommand("run RUNID [-o table|json|yaml] [--at TIME|POSITION]", "a run's steps and status", 1, 1, func(pos []string) int { return run(pos) })
	fs := cmd.Flags()
	format := outputFlag(cmd)
	at := fs.String("at", "", "the run as it was then: an RFC 3339 time or a log position (see conveyor events)")
	run = func(pos []string) int {
		id, ok := c.runID("run", pos[0])
		if !ok {
			return exitFailed
		}
		r, err := c.client.RunAt(c.ctx, id, *at)
		if err != nil {
			return c.fail("run "+pos[0], err)
		}
		return c.show(*format, r, func(tw *tabwriter.Writer) { runTable(tw, r) })
	}
	return cmd
}

func (c *cli) show(format string, v any, table func(*tabwriter.Writer)) int {
	if err := output(c.stdout, format, v, table); err != nil {
		fmt.Fprintf(c.stderr, "conveyor: %v\n", err)
		return exitUsage
	}
	return exitOK
}

// printLine prints a line with its time, step and attempt (compile#1) and
// driver; a line without a step (from a runtime that does not say) has
// none.
func (c *cli) printLine(l sdk.LogLine) error {
	step := ""
	if l.Step != "" {
		step = l.Step
		if l.Attempt > 0 {
			step += "#" + strconv.Itoa(l.Attempt)
		}
		step += " "
	}
	_, err := fmt.Fprintf(c.stdout, "%s %s%-10s | %s\n", l.Time.Local().Format("15:04:05.000"), step, l.Driver, l.Message)
	return err
}

// logs is `conveyor logs RUNID [-f] [--driver D] [--step S [--attempt N]]`.
func (c *cli) logsCommand() *cobra.Command {
	var run func(pos []string) int
	cmd := c.clientCommand("logs RUNID [-f] [--driver D] [--step STEP [--attempt N]]", "a run's log, or one step's; -f follows it live", 1, 1, func(pos []string) int { return run(pos) })
	fs := cmd.Flags()
	follow := fs.BoolP("follow", "f", false, "follow: keep printing new lines until the run has ended")
	var f sdk.LogFilter
	fs.StringVar(&f.Driver, "driver", "", "only this driver's lines")
	fs.StringVar(&f.Step, "step", "", "only this step's lines")
	fs.IntVar(&f.Attempt, "attempt", 0, "only the lines of this attempt of the step (1 for the first try)")
	run = func(pos []string) int {
		runID, ok := c.runID("logs", pos[0])
		if !ok {
			return exitFailed
		}
		if *follow {
			// The stream of a run that does not exist fails only after its
			// handshake times out; asking for the run first answers at once.
			if _, err := c.client.Run(c.ctx, runID); errors.Is(err, sdk.ErrNotFound) {
				fmt.Fprintf(c.stderr, "conveyor: logs %s: run %s not found\n", runID, runID)
				return exitFailed
			} else if err != nil {
				return c.fail("logs "+runID, err)
			}
			err := c.client.FollowRunLogs(c.ctx, runID, f, c.printLine)
			if c.ctx.Err() != nil {
				return c.stoppedFollowing(runID)
			}
			if err != nil {
				return c.fail("logs "+runID, err)
			}
			return exitOK
		}
		for {
			page, err := c.client.RunLogs(c.ctx, runID, f)
			if err != nil {
				return c.fail("logs "+runID, err)
			}
			for _, l := range page.Items {
				_ = c.printLine(l)
			}
			if page.Next == 0 {
				return exitOK
			}
			f.After, f.Line = page.Next, page.Items[len(page.Items)-1].Line
		}
	}
	return cmd
}

// events is `conveyor events [--follow] [--aggregate A] [--runid R] [--type T]`.
func (c *cli) eventsCommand() *cobra.Command {
	var run func(pos []string) int
	cmd := c.clientCommand("events [--follow] [--aggregate KIND[/ID]] [--runid RUNID] [--type TYPE] [--after SEQ]", "the event log, for audits", 0, 0, func(pos []string) int { return run(pos) })
	fs := cmd.Flags()
	var f sdk.EventFilter
	follow := fs.Bool("follow", false, "keep printing new events as they are appended")
	fs.StringVar(&f.Aggregate, "aggregate", "", "only events of this aggregate kind, or KIND/ID")
	fs.StringVar(&f.RunID, "runid", "", "only events of this run")
	fs.StringVar(&f.Type, "type", "", "only events of this type, e.g. RunFailed.v1")
	fs.Uint64Var(&f.After, "after", 0, "only events after this log sequence")
	run = func(pos []string) int {
		table := &eventsTable{w: c.stdout}
		table.header()
		if *follow {
			if err := c.client.FollowEvents(c.ctx, f, table.row); err != nil && c.ctx.Err() == nil {
				return c.fail("events", err)
			}
			return exitOK
		}
		for {
			page, err := c.client.Events(c.ctx, f)
			if err != nil {
				return c.fail("events", err)
			}
			for _, e := range page.Items {
				_ = table.row(e)
			}
			if page.Next == 0 {
				table.close()
				return exitOK
			}
			f.After = page.Next
		}
	}
	return cmd
}

// trace is `conveyor trace RUNID`: the webhook delivery when a trigger
// started the run, the resource change, then each dispatch and result,
// with event ids and causation links.
func (c *cli) traceCommand() *cobra.Command {
	var run func(pos []string) int
	cmd := c.clientCommand("trace RUNID [-o table|json|yaml]", "why a run happened and what happened in it", 1, 1, func(pos []string) int { return run(pos) })
	format := outputFlag(cmd)
	run = func(pos []string) int {
		id, ok := c.runID("trace", pos[0])
		if !ok {
			return exitFailed
		}
		t, err := c.client.Trace(c.ctx, id)
		if err != nil {
			return c.fail("trace "+pos[0], err)
		}
		chain := t.Events
		if t.Cause != nil {
			chain = append([]sdk.Event{*t.Cause}, chain...)
		}
		if t.Trigger != nil {
			chain = append([]sdk.Event{*t.Trigger}, chain...)
		}
		return c.show(*format, t, func(tw *tabwriter.Writer) {
			tableRow(tw, "SEQ", "TIME", "EVENT", "ID", "CAUSED BY", "ACTOR")
			for _, e := range chain {
				tableRow(tw, e.Sequence, e.Time.Local().Format("15:04:05.000"), e.Type+stepOf(e), short(e.ID), short(e.CausationID), e.Actor.String())
			}
		})
	}
	return cmd
}

// stepOf names the step an event is about, if any.
func stepOf(e sdk.Event) string {
	var s struct {
		Step string `json:"step"`
	}
	_ = json.Unmarshal(e.Raw, &s)
	if s.Step == "" {
		return ""
	}
	return " " + s.Step
}
