package main

import (
	"fmt"

	"github.com/conveyor/conveyor/sdk"
)

// approve is `conveyor approve RUNID STEP [-m COMMENT]`: the waiting approval
// step succeeds and the run goes on.
func (c *cli) approve(args []string) int { return c.decide("approve", true, args) }

// reject is `conveyor reject RUNID STEP [-m COMMENT]`: the waiting approval
// step fails; what needs it is skipped.
func (c *cli) reject(args []string) int { return c.decide("reject", false, args) }

func (c *cli) decide(name string, approve bool, args []string) int {
	fs := c.flags(name, "RUNID STEP [-m COMMENT]")
	comment := fs.String("m", "", "a comment, kept in the run's history")
	pos, code := c.parse(fs, args, 2, 2)
	if code >= 0 {
		return code
	}
	act := (*sdk.Client).ApproveStep
	if !approve {
		act = (*sdk.Client).RejectStep
	}
	r, err := act(c.client, c.ctx, pos[0], pos[1], *comment)
	if err != nil {
		return c.fail(name+" "+pos[0]+" "+pos[1], err)
	}
	fmt.Fprintf(c.stdout, "run %s: step %s %sd; the run is %s\n", r.ID, pos[1], name, r.Status)
	return exitOK
}
