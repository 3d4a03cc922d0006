package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/conveyor/conveyor/sdk"

	"github.com/spf13/cobra"
)

// triggersCommand is `conveyor triggers [list] | get NAME | delete NAME |
// test NAME | deliveries NAME`: the webhook triggers; `conveyor apply -f`
// saves them.
func (c *cli) triggersCommand() *cobra.Command {
	var format *string
	list := func([]string) int { return c.showTriggers("", *format) }
	cmd := c.clientCommand("triggers [list|get NAME|delete NAME|test NAME|deliveries NAME] [-o table|json|yaml]",
		"list, show, delete and try the triggers that start runs from webhooks (conveyor apply -f saves them)", 0, 0, list)
	format = outputFlag(cmd)
	var listFormat, getFormat *string
	ls := c.clientCommand("list [-o table|json|yaml]", "the triggers: source, events, resource type and pipeline", 0, 0,
		func([]string) int { return c.showTriggers("", *listFormat) })
	listFormat = outputFlag(ls)
	get := c.clientCommand("get NAME [-o table|json|yaml]", "one trigger (-o yaml gives what apply -f reads back)", 1, 1,
		func(pos []string) int { return c.showTriggers(pos[0], *getFormat) })
	getFormat = outputFlag(get)
	del := c.clientCommand("delete NAME", "delete a trigger: deliveries to it are refused from then on", 1, 1,
		func(pos []string) int { return c.delete([]string{"trigger", pos[0]}) })
	cmd.AddCommand(ls, get, del, c.triggerTryCommand(), c.triggerDeliveriesCommand())
	return cmd
}

// showTriggers prints one trigger (name) or all of them in format.
func (c *cli) showTriggers(name, format string) int {
	v, table, err := c.fetchTriggers(name)
	if err != nil {
		return c.fail(strings.TrimSuffix("get trigger/"+name, "/"), err)
	}
	if format == "json" || format == "yaml" {
		if err := writeDocuments(c.stdout, format, applyKinds["trigger"], v); err != nil {
			fmt.Fprintf(c.stderr, "conveyor: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	return c.show(format, v, table)
}

// fetchTriggers reads one trigger, or all when name is "", and says how to
// show them as a table.
func (c *cli) fetchTriggers(name string) (any, func(*tabwriter.Writer), error) {
	ts := []sdk.Trigger{}
	if name != "" {
		t, err := c.client.Trigger(c.ctx, name)
		if err != nil {
			return nil, nil, err
		}
		ts = append(ts, t)
	} else {
		all, err := sdk.All(c.ctx, c.client.Triggers)
		if err != nil {
			return nil, nil, err
		}
		ts = append(ts, all...)
	}
	return one(ts, name), func(tw *tabwriter.Writer) {
		tableRow(tw, "NAME", "SOURCE", "EVENTS", "RESOURCE", "PIPELINE", "VERSION")
		for _, t := range ts {
			events := strings.Join(t.Events, ",")
			if t.Source == "schedule" {
				events = t.Schedule + " " + t.TimeZone
			}
			tableRow(tw, t.Name, t.Source, events, t.Resource.Type, t.Pipeline, t.Version)
		}
	}, nil
}
