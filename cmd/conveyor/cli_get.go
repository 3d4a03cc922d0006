package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/conveyor/conveyor/sdk"

	"github.com/spf13/cobra"
)

// kinds maps the names a user may type to a kind.
var kinds = map[string]string{
	"definitions": "definition", "definition": "definition", "rd": "definition", "resourcedefinitions": "definition",
	"pipelines": "pipeline", "pipeline": "pipeline", "pl": "pipeline",
	"resources": "resource", "resource": "resource", "res": "resource",
	"runs": "run", "run": "run",
	"triggers": "trigger", "trigger": "trigger",
}

// get is `conveyor get KIND [NAME] [-o table|json|yaml] [--at TIME|POSITION]`.
func (c *cli) getCommand() *cobra.Command {
	var run func(pos []string) int
	cmd := c.clientCommand("get definitions|pipelines|resources|runs|triggers [NAME] [-o table|json|yaml] [--at TIME|POSITION]",
		"show definitions, pipelines, resources, runs or triggers", 1, 2, func(pos []string) int { return run(pos) })
	cmd.Long = "NAME of a resource is TYPE/NAME, or TYPE for all of that type.\n" +
		"--at reads one resource (TYPE/NAME) or one run as it was then.\n\n" + cmd.Long
	fs := cmd.Flags()
	format := outputFlag(cmd)
	at := fs.String("at", "", "read one resource or run as it was then: an RFC 3339 time or a log position (see conveyor events)")
	run = func(pos []string) int {
		kind, ok := kinds[pos[0]]
		if !ok {
			fmt.Fprintf(c.stderr, "conveyor: get: unknown kind %q (definitions, pipelines, resources, runs, triggers)\n", pos[0])
			return exitUsage
		}
		name := ""
		if len(pos) == 2 {
			name = pos[1]
		}
		if *at != "" && !(kind == "resource" && strings.Contains(name, "/")) && !(kind == "run" && name != "") {
			fmt.Fprintln(c.stderr, "conveyor: get: --at reads one resource (resources TYPE/NAME) or one run (runs RUNID)")
			return exitUsage
		}
		v, table, err := c.fetch(kind, name, *at)
		if err != nil {
			return c.fail("get "+strings.TrimSuffix(kind+"/"+name, "/"), err)
		}
		if k, ok := applyKinds[kind]; ok && (*format == "json" || *format == "yaml") {
			err = writeDocuments(c.stdout, *format, k, v)
		} else {
			err = output(c.stdout, *format, v, table)
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "conveyor: get: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	return cmd
}

// fetch reads one object or a list, and says how to show it as a table. at,
// when set, is the moment one resource or run is read at.
func (c *cli) fetch(kind, name, at string) (any, func(*tabwriter.Writer), error) {
	ctx := c.ctx
	switch kind {
	case "definition":
		defs := []sdk.ResourceDefinition{}
		if name != "" {
			d, err := c.client.Definition(ctx, name)
			if err != nil {
				return nil, nil, err
			}
			defs = append(defs, d)
		} else {
			all, err := sdk.All(ctx, c.client.Definitions)
			if err != nil {
				return nil, nil, err
			}
			defs = append(defs, all...)
		}
		return one(defs, name), func(tw *tabwriter.Writer) {
			tableRow(tw, "NAME", "VERSION", "DESCRIPTION")
			for _, d := range defs {
				tableRow(tw, d.Name, d.Version, d.Description)
			}
		}, nil
	case "pipeline":
		ps := []sdk.Pipeline{}
		if name != "" {
			p, err := c.client.Pipeline(ctx, name)
			if err != nil {
				return nil, nil, err
			}
			ps = append(ps, p)
		} else {
			all, err := sdk.All(ctx, c.client.Pipelines)
			if err != nil {
				return nil, nil, err
			}
			ps = append(ps, all...)
		}
		return one(ps, name), func(tw *tabwriter.Writer) {
			tableRow(tw, "NAME", "RESOURCE", "VERSION", "STEPS")
			for _, p := range ps {
				tableRow(tw, p.Name, p.Resource, p.Version, pipelineLevels(p))
			}
		}, nil
	case "resource":
		rs := []sdk.Resource{}
		typ, rname, single := strings.Cut(name, "/")
		if single {
			r, err := c.client.ResourceAt(ctx, typ, rname, at)
			if err != nil {
				return nil, nil, err
			}
			rs = append(rs, r)
		} else {
			all, err := sdk.All(ctx, func(ctx context.Context, p sdk.Page) (sdk.List[sdk.Resource], error) {
				return c.client.Resources(ctx, typ, p)
			})
			if err != nil {
				return nil, nil, err
			}
			rs = append(rs, all...)
		}
		var v any = rs
		if single {
			v = rs[0]
		}
		return v, func(tw *tabwriter.Writer) {
			tableRow(tw, "TYPE", "NAME", "VERSION", "PIPELINE")
			for _, r := range rs {
				tableRow(tw, r.Type, r.Name, r.Metadata["version"], r.Pipeline)
			}
		}, nil
	case "trigger":
		return c.fetchTriggers(name)
	case "run":
		if name != "" {
			r, err := c.client.RunAt(ctx, name, at)
			if err != nil {
				return nil, nil, err
			}
			return r, func(tw *tabwriter.Writer) { runTable(tw, r) }, nil
		}
		runs, err := sdk.All(ctx, func(ctx context.Context, p sdk.Page) (sdk.List[sdk.Run], error) {
			return c.client.Runs(ctx, sdk.RunFilter{}, p)
		})
		if err != nil {
			return nil, nil, err
		}
		return runs, func(tw *tabwriter.Writer) { runsTable(tw, runs) }, nil
	}
	return nil, nil, fmt.Errorf("unknown kind %s", kind)
}

// one is the single object when a name was given, else the list.
func one[T any](list []T, name string) any {
	if name != "" && len(list) == 1 {
		return list[0]
	}
	return list
}

// deleteCommand is `conveyor delete KIND NAME`.
func (c *cli) deleteCommand() *cobra.Command {
	cmd := c.clientCommand("delete definition|pipeline|resource|trigger NAME", "delete a definition, pipeline, resource or trigger", 2, 2, c.delete)
	cmd.Long = "NAME of a resource is TYPE/NAME.\n\n" + cmd.Long
	return cmd
}

func (c *cli) delete(pos []string) int {
	kind, name := kinds[pos[0]], pos[1]
	var err error
	switch kind {
	case "definition":
		err = c.client.DeleteDefinition(c.ctx, name)
	case "pipeline":
		err = c.client.DeletePipeline(c.ctx, name)
	case "trigger":
		err = c.client.DeleteTrigger(c.ctx, name)
	case "resource":
		typ, rname, ok := strings.Cut(name, "/")
		if !ok {
			fmt.Fprintln(c.stderr, "conveyor: delete resource: name a resource as TYPE/NAME")
			return exitUsage
		}
		err = c.client.DeleteResource(c.ctx, typ, rname)
	default:
		fmt.Fprintf(c.stderr, "conveyor: delete: unknown kind %q (definition, pipeline, resource, trigger)\n", pos[0])
		return exitUsage
	}
	if err != nil {
		return c.fail("delete "+kind+"/"+name, err)
	}
	fmt.Fprintf(c.stdout, "%s/%s deleted\n", kind, name)
	return exitOK
}
