package main

import (
	"fmt"

	"github.com/conveyor/conveyor/sdk"
	"github.com/spf13/cobra"
)

// approveCommand is `conveyor approve RUNID STEP [-m COMMENT]`: the waiting
// approval step succeeds and the run goes on.
func (c *cli) approveCommand() *cobra.Command {
	return c.decide("approve", "approve a waiting approval step: the run goes on", true)
}

// rejectCommand is `conveyor reject RUNID STEP [-m COMMENT]`: the waiting
// approval step fails; what needs it is skipped.
func (c *cli) rejectCommand() *cobra.Command {
	return c.decide("reject", "reject a waiting approval step: what needs it is skipped", false)
}

func (c *cli) decide(name, short string, approve bool) *cobra.Command {
	var comment *string
	cmd := c.clientCommand(name+" RUNID STEP [-m COMMENT]", short, 2, 2, func(pos []string) int {
		act := (*sdk.Client).ApproveStep
		if !approve {
			act = (*sdk.Client).RejectStep
		}
		id, ok := c.runID(name, pos[0])
		if !ok {
			return exitFailed
		}
		r, err := act(c.client, c.ctx, id, pos[1], *comment)
		if err != nil {
			return c.fail(name+" "+pos[0]+" "+pos[1], err)
		}
		fmt.Fprintf(c.stdout, "run %s: step %s %sd; the run is %s\n", r.ID, pos[1], name, r.Status)
		return exitOK
	})
	comment = cmd.Flags().StringP("message", "m", "", "a comment, kept in the run's history")
	return cmd
}
