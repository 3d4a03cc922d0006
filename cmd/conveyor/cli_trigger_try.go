package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/conveyor/conveyor/sdk"
	"github.com/spf13/cobra"
)

// triggerTryCommand is `conveyor triggers test NAME --payload FILE
// [--event E] [--header K=V]...`: what a delivery would do, writing
// nothing.
func (c *cli) triggerTryCommand() *cobra.Command {
	var payload, event string
	var headers []string
	var cmd *cobra.Command
	cmd = c.clientCommand("test NAME --payload FILE [--event EVENT] [--header NAME=VALUE]...",
		"try a trigger on a payload: prints the resource a delivery like it would write, or why it would write nothing; writes nothing", 1, 1,
		func(pos []string) int {
			if payload == "" {
				c.usage(cmd)
				return exitUsage
			}
			try, err := c.triggerTry(payload, event, headers)
			if err != nil {
				fmt.Fprintf(c.stderr, "conveyor: triggers test: %v\n", err)
				return exitUsage
			}
			tried, err := c.client.TryTrigger(c.ctx, pos[0], try)
			if err != nil {
				return c.fail("test trigger/"+pos[0], err)
			}
			printTried(c.stdout, tried)
			return exitOK
		})
	fs := cmd.Flags()
	fs.StringVar(&payload, "payload", "", "the git host's JSON payload: a file, or - for standard input (required)")
	fs.StringVar(&event, "event", "", "the delivery's event (push, tag, pull_request, merge_request, ping…); default: the one the headers name")
	fs.StringArrayVar(&headers, "header", nil, "a header of the delivery, NAME=VALUE (repeat for more)")
	return cmd
}

// triggerTry reads the payload (a file, or - for standard input) and the
// headers given as NAME=VALUE.
func (c *cli) triggerTry(payload, event string, headers []string) (sdk.TriggerTry, error) {
	var data []byte
	var err error
	if payload == "-" {
		data, err = io.ReadAll(io.LimitReader(c.stdin, 1<<20))
	} else {
		data, err = os.ReadFile(payload)
	}
	if err != nil {
		return sdk.TriggerTry{}, err
	}
	if !json.Valid(data) {
		return sdk.TriggerTry{}, fmt.Errorf("the payload in %s is not JSON", payload)
	}
	try := sdk.TriggerTry{Event: event, Payload: data, Headers: map[string]string{}}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, "=")
		if !ok || name == "" {
			return sdk.TriggerTry{}, fmt.Errorf("--header %q: want NAME=VALUE", h)
		}
		try.Headers[name] = value
	}
	return try, nil
}

// printTried says what a tried delivery would do.
func printTried(w io.Writer, t sdk.TriggerTried) {
	if t.Outcome != "would fire" || t.Resource == nil {
		fmt.Fprintf(w, "%s (event %s): %s\nnothing would be written\n", t.Outcome, t.Event, t.Reason)
		return
	}
	r := t.Resource
	fmt.Fprintf(w, "would fire (event %s): write resource %s/%s", t.Event, r.Type, r.Name)
	if r.Pipeline != "" {
		fmt.Fprintf(w, ", which starts a run of pipeline %s", r.Pipeline)
	}
	fmt.Fprintln(w)
	var spec map[string]any
	if json.Unmarshal(r.Spec, &spec) == nil && len(spec) > 0 {
		fmt.Fprintln(w, "spec:")
		keys := make([]string, 0, len(spec))
		for k := range spec {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, _ := json.Marshal(spec[k])
			fmt.Fprintf(w, "  %s: %s\n", k, v)
		}
	}
	if t.Report != nil {
		fmt.Fprintf(w, "reports to %s: %s at %s (token from secret %s)\n", t.Report.Kind, t.Report.Repository, t.Report.SHA, t.Report.Token)
	}
	fmt.Fprintln(w, "nothing was written")
}

// triggerDeliveriesCommand is `conveyor triggers deliveries NAME`: the
// latest deliveries the trigger took.
func (c *cli) triggerDeliveriesCommand() *cobra.Command {
	var format *string
	cmd := c.clientCommand("deliveries NAME [-o table|json|yaml]",
		"the latest deliveries to a trigger, newest first: time, event, delivery id, answer, and the commit, ref, resource and run "+
			"of those that wrote one; those that wrote nothing (KEPT memory) only the server that answered them lists", 1, 1,
		func(pos []string) int {
			ds, err := c.client.TriggerDeliveries(c.ctx, pos[0])
			if err != nil {
				return c.fail("get deliveries of trigger/"+pos[0], err)
			}
			return c.show(*format, ds, func(tw *tabwriter.Writer) {
				tableRow(tw, "TIME", "EVENT", "DELIVERY", "ANSWER", "KEPT", "COMMIT", "REF", "RESOURCE", "RUN", "REASON")
				for _, d := range ds {
					tableRow(tw, d.Time.Local().Format(time.DateTime), orDash(d.Event), orDash(d.Delivery), d.Status, d.Kept,
						orDash(d.Commit[:min(7, len(d.Commit))]), orDash(d.Ref), orDash(d.Resource), orDash(d.RunID), orDash(d.Reason))
				}
			})
		})
	format = outputFlag(cmd)
	return cmd
}
