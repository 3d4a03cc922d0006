package main

import (
	"fmt"
	"strings"

	"github.com/conveyor/conveyor/domain"
	"github.com/conveyor/conveyor/projections"
	"github.com/conveyor/conveyor/sdk"
)

// runID is the Run ID arg names: arg itself when it is a whole ID, else
// the one run whose ID starts with it (the UI and the CLI show a run's
// first eight characters). ok is false, with the reason printed, when the
// prefix names several runs or the server cannot tell; a prefix that names
// none is returned as it is, for the command to say that no such run is
// there.
func (c *cli) runID(command, arg string) (id string, ok bool) {
	if domain.ValidRunID(arg) || len(arg) < projections.MinRunIDPrefix {
		return arg, true
	}
	page, err := c.client.Runs(c.ctx, sdk.RunFilter{IDPrefix: arg}, sdk.Page{Limit: 3})
	if err != nil {
		c.fail(command+" "+arg, err)
		return "", false
	}
	switch len(page.Items) {
	case 0:
		return arg, true
	case 1:
		return page.Items[0].ID, true
	}
	ids := make([]string, len(page.Items))
	for i, r := range page.Items {
		ids[i] = r.ID
	}
	more := ""
	if page.Continue != "" {
		more = ", …"
	}
	fmt.Fprintf(c.stderr, "conveyor: %s %s: more than one run starts with it: %s%s; give more of the Run ID\n", command, arg, strings.Join(ids, ", "), more)
	return "", false
}
