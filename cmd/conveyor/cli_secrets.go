package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// secretsCommand is `conveyor secrets set NAME [--from-file F] | list |
// delete NAME`. set reads the value from standard input (one trailing
// newline dropped) or from a file, never from the command line, where ps
// and the shell's history would show it.
func (c *cli) secretsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "secrets", Short: "set, list and delete the secrets pipelines grant to steps"}
	var from *string
	set := c.clientCommand("set NAME [--from-file FILE]", "set a secret's value from standard input or a file (write-only)", 1, 1, func(pos []string) int {
		value, err := c.secretValue(*from)
		if err != nil {
			fmt.Fprintf(c.stderr, "conveyor: secrets set: %v\n", err)
			return exitUsage
		}
		if err := c.client.SetSecret(c.ctx, pos[0], value); err != nil {
			return c.fail("secrets set "+pos[0], err)
		}
		fmt.Fprintf(c.stdout, "secret %s set\n", pos[0])
		return exitOK
	})
	from = set.Flags().String("from-file", "", "read the value from this file, as it is")
	var format *string
	list := c.clientCommand("list [-o table|json|yaml]", "the secrets: names and change times, never values", 0, 0, func([]string) int {
		entries, err := c.client.Secrets(c.ctx)
		if err != nil {
			return c.fail("secrets list", err)
		}
		return c.show(*format, entries, func(tw *tabwriter.Writer) {
			tableRow(tw, "NAME", "CHANGED")
			for _, e := range entries {
				tableRow(tw, e.Name, e.ChangedAt.Local().Format(time.DateTime))
			}
		})
	})
	format = outputFlag(list)
	del := c.clientCommand("delete NAME", "delete a secret", 1, 1, func(pos []string) int {
		if err := c.client.DeleteSecret(c.ctx, pos[0]); err != nil {
			return c.fail("secrets delete "+pos[0], err)
		}
		fmt.Fprintf(c.stdout, "secret %s deleted\n", pos[0])
		return exitOK
	})
	cmd.AddCommand(set, list, del)
	return cmd
}

// secretValue is the value to set: the file's bytes, else standard input
// without one trailing newline (as `echo` and here-strings add it).
func (c *cli) secretValue(file string) ([]byte, error) {
	if file != "" {
		return os.ReadFile(file)
	}
	data, err := io.ReadAll(io.LimitReader(c.stdin, 1<<20))
	if err != nil {
		return nil, err
	}
	value := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if value == "" {
		return nil, fmt.Errorf("no value on standard input (or give --from-file)")
	}
	return []byte(value), nil
}
