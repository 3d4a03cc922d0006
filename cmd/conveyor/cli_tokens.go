package main

import (
	"fmt"
	"text/tabwriter"
)

// tokens is `conveyor tokens create NAME --role ROLE | list | revoke NAME`.
// create prints the secret alone on stdout, so that it can be captured.
func (c *cli) tokens(args []string) int {
	fs := c.flags("tokens", "create NAME --role viewer|driver|operator|admin | list | revoke NAME")
	role := fs.String("role", "viewer", "role of the new token: viewer, driver, operator or admin")
	pos, code := c.parse(fs, args, 1, 2)
	if code >= 0 {
		return code
	}
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
	fs.Usage()
	return exitUsage
}
