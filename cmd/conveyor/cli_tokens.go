package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// tokens is `conveyor tokens create NAME --role ROLE | list | revoke NAME`.
// create prints the secret alone on stdout, so that it can be captured.
func (c *cli) tokensCommand() *cobra.Command {
	var run func(pos []string) int
	cmd := c.clientCommand("tokens create NAME --role viewer|driver|operator|admin | list | revoke NAME", "issue, list and revoke API tokens", 1, 2, func(pos []string) int { return run(pos) })
	fs := cmd.Flags()
	role := fs.String("role", "viewer", "role of the new token: viewer, driver, operator or admin")
	run = func(pos []string) int {
		switch {
		case pos[0] == "create" && len(pos) == 2:
			tok, err := c.client.CreateToken(c.ctx, pos[1], *role)
			if err != nil {
				return c.fail("create token", err)
			}
			fmt.Fprintln(c.stdout, tok.Secret)
			fmt.Fprintf(c.stderr, "token %s (role %s, id %s): shown this once\n", tok.Name, tok.Role, tok.ID)
			return exitOK
		case pos[0] == "list" && len(pos) == 1:
			list, err := c.client.Tokens(c.ctx)
			if err != nil {
				return c.fail("list tokens", err)
			}
			w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tROLE\tID")
			for _, t := range list {
				fmt.Fprintf(w, "%s\t%s\t%s\n", t.Name, t.Role, t.ID)
			}
			_ = w.Flush()
			return exitOK
		case pos[0] == "revoke" && len(pos) == 2:
			tok, err := c.client.RevokeToken(c.ctx, pos[1])
			if err != nil {
				return c.fail("revoke token", err)
			}
			fmt.Fprintf(c.stdout, "token %s revoked\n", tok.Name)
			return exitOK
		}
		c.usage(cmd)
		return exitUsage
	}
	return cmd
}
