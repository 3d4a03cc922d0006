package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/sdk"

	"github.com/spf13/cobra"
)

// document is one object of an apply file: its kind and its fields.
type document struct {
	Kind string
	Raw  json.RawMessage
}

// readDocuments reads YAML (documents separated by ---) or JSON (one or
// more objects) and returns each object as JSON with its kind.
func readDocuments(data []byte) ([]document, error) {
	var raws []json.RawMessage
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("JSON: %w", err)
			}
			raws = append(raws, raw)
		}
	} else {
		for i, part := range splitYAML(string(data)) {
			raw, err := yamlToJSON([]byte(part))
			if err != nil {
				return nil, fmt.Errorf("YAML document %d: %w", i+1, err)
			}
			if string(raw) != "null" {
				raws = append(raws, raw)
			}
		}
	}
	raws, err := expandLists(raws)
	if err != nil {
		return nil, err
	}
	docs := make([]document, 0, len(raws))
	for i, raw := range raws {
		var head struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("document %d is not an object: %w", i+1, err)
		}
		switch head.Kind {
		case "ResourceDefinition", "Pipeline", "Resource", "Trigger":
		default:
			return nil, fmt.Errorf("document %d: kind %q is not ResourceDefinition, Pipeline, Resource or Trigger", i+1, head.Kind)
		}
		docs = append(docs, document{Kind: head.Kind, Raw: raw})
	}
	return docs, nil
}

// expandLists replaces each document of kind List by its items.
func expandLists(raws []json.RawMessage) ([]json.RawMessage, error) {
	var out []json.RawMessage
	for i, raw := range raws {
		var list struct {
			Kind  string            `json:"kind"`
			Items []json.RawMessage `json:"items"`
		}
		if json.Unmarshal(raw, &list) != nil || list.Kind != listKind {
			out = append(out, raw)
			continue
		}
		if list.Items == nil {
			return nil, fmt.Errorf("document %d: a List needs items", i+1)
		}
		out = append(out, list.Items...)
	}
	return out, nil
}

func splitYAML(s string) []string {
	var parts []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimRight(line, " \t\r") == "---" {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line + "\n")
	}
	parts = append(parts, cur.String())
	var out []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}

// apply is `conveyor apply -f FILE|- [--wait]`.
func (c *cli) applyCommand() *cobra.Command {
	var run func(pos []string) int
	cmd := c.clientCommand("apply -f FILE|- [--wait] [--timeout 10m]", "create or update definitions, pipelines, resources and triggers from YAML or JSON", 0, 0, func(pos []string) int { return run(pos) })
	fs := cmd.Flags()
	file := fs.StringP("filename", "f", "", "file of ResourceDefinition, Pipeline, Resource and Trigger documents (YAML or JSON); - reads standard input")
	wait := fs.Bool("wait", false, "wait for the runs the resources start, showing their steps; exit 0 only if all succeeded")
	timeout := fs.Duration("timeout", 10*time.Minute, "with --wait: how long to wait")
	fs.BoolVar(&c.rerun, "rerun", false, "replace resources even when unchanged: a new version and a new run of their pipelines")
	run = func(pos []string) int {
		if *file == "" {
			c.usage(cmd)
			return exitUsage
		}
		var data []byte
		var err error
		if *file == "-" {
			data, err = io.ReadAll(c.stdin)
		} else {
			data, err = os.ReadFile(*file)
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "conveyor: apply: %v\n", err)
			return exitUsage
		}
		docs, err := readDocuments(data)
		if err != nil {
			fmt.Fprintf(c.stderr, "conveyor: apply %s: %v\n", *file, err)
			return exitFailed
		}
		if len(docs) == 0 {
			fmt.Fprintf(c.stderr, "conveyor: apply %s: nothing to apply\n", *file)
			return exitOK
		}
		var runs []string
		for _, d := range docs {
			runID, code := c.applyOne(d)
			if code != exitOK {
				return code
			}
			if runID != "" {
				runs = append(runs, runID)
			}
		}
		if !*wait {
			return exitOK
		}
		return c.waitRuns(runs, *timeout)
	}
	return cmd
}

func (c *cli) applyOne(d document) (string, int) {
	switch d.Kind {
	case "ResourceDefinition":
		var def sdk.ResourceDefinition
		if err := json.Unmarshal(d.Raw, &def); err != nil {
			return "", c.fail("apply ResourceDefinition", err)
		}
		saved, err := c.client.ApplyDefinition(c.ctx, def)
		if err != nil {
			return "", c.fail("apply resourcedefinition/"+def.Name, err)
		}
		fmt.Fprintf(c.stdout, "resourcedefinition/%s %s\n", def.Name, appliedOr(saved.Unchanged))
	case "Pipeline":
		var p sdk.Pipeline
		if err := json.Unmarshal(d.Raw, &p); err != nil {
			return "", c.fail("apply Pipeline", err)
		}
		saved, err := c.client.ApplyPipeline(c.ctx, p)
		if err != nil {
			return "", c.fail("apply pipeline/"+p.Name, err)
		}
		fmt.Fprintf(c.stdout, "pipeline/%s %s\n", p.Name, appliedOr(saved.Unchanged))
		for _, w := range saved.Warnings {
			fmt.Fprintf(c.stderr, "warning: pipeline/%s: %s\n", p.Name, w)
		}
	case "Trigger":
		var t sdk.Trigger
		if err := json.Unmarshal(d.Raw, &t); err != nil {
			return "", c.fail("apply Trigger", err)
		}
		saved, err := c.client.SaveTrigger(c.ctx, t)
		if err != nil {
			return "", c.fail("apply trigger/"+t.Name, err)
		}
		fmt.Fprintf(c.stdout, "trigger/%s %s\n", t.Name, appliedOr(saved.Unchanged))
	case "Resource":
		var r sdk.Resource
		if err := json.Unmarshal(d.Raw, &r); err != nil {
			return "", c.fail("apply Resource", err)
		}
		what := "resource/" + r.Type + "/" + r.Name
		if !c.rerun {
			if cur, err := c.client.Resource(c.ctx, r.Type, r.Name); err == nil && sameResource(r, cur) {
				fmt.Fprintf(c.stdout, "%s unchanged (version %s)\n", what, cur.Metadata["version"])
				return "", exitOK
			}
		}
		res, err := c.client.CreateResource(c.ctx, r)
		verb := "created"
		if errors.Is(err, sdk.ErrConflict) {
			res, err = c.client.ReplaceResource(c.ctx, r, 0)
			verb = "updated"
		}
		if err != nil {
			return "", c.fail("apply "+what, err)
		}
		if r.Pipeline != "" {
			fmt.Fprintf(c.stdout, "%s %s (version %d, run %s)\n", what, verb, res.Version, res.RunID)
			return res.RunID, exitOK
		}
		fmt.Fprintf(c.stdout, "%s %s (version %d)\n", what, verb, res.Version)
	}
	return "", exitOK
}

// waitRuns follows runs to their end, printing each event of each as it
// comes (followRun).
func (c *cli) waitRuns(runs []string, timeout time.Duration) int {
	ctx, cancel := contextWithTimeout(c.ctx, timeout)
	defer cancel()
	code := exitOK
	for i, id := range runs {
		end, err := c.followRun(ctx, id)
		if c.ctx.Err() != nil {
			return c.stoppedFollowing(runs[i:]...)
		}
		if err != nil {
			return c.fail("wait for run "+id, err)
		}
		fmt.Fprintf(c.stdout, "run %s %s%s\n", id, end.status, messageNote(end.message))
		if end.status != "succeeded" {
			code = exitFailed
		}
	}
	return code
}

// short abbreviates a UUID to its first eight characters.
func short(id string) string {
	if len(id) == 36 && id[8] == '-' {
		return id[:8]
	}
	return id
}

func messageNote(m string) string {
	if m != "" {
		return ": " + m
	}
	return ""
}

func appliedOr(unchanged bool) string {
	if unchanged {
		return "unchanged"
	}
	return "applied"
}

// sameResource reports whether applying r over cur would change nothing:
// the same spec, pipeline and client metadata (domain.Resource.SameAs).
func sameResource(r, cur sdk.Resource) bool {
	var a, b domain.Resource
	if !convert(r, &a) || !convert(cur, &b) {
		return false
	}
	return a.SameAs(b)
}

// convert moves v into out through its JSON, which the sdk's and the
// domain's types share.
func convert(v, out any) bool {
	data, err := json.Marshal(v)
	return err == nil && json.Unmarshal(data, out) == nil
}
