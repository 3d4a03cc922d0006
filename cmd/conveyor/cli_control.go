package main

import (
	"context"
	"fmt"

	"github.com/conveyor/conveyor/sdk"
)

// runAction is an SDK call that acts on one run and answers its new state.
type runAction func(c *sdk.Client, ctx context.Context, id string) (sdk.Run, error)

// cancel is `conveyor cancel RUNID`: the run ends as cancelled; steps not
// yet finished are not dispatched again.
func (c *cli) cancel(args []string) int {
	return c.control("cancel", "", args, (*sdk.Client).CancelRun)
}

// retry is `conveyor retry RUNID`: a failed run resumes from its failed step.
func (c *cli) retry(args []string) int {
	return c.control("retry", "retried, now ", args, (*sdk.Client).RetryRun)
}

// control runs act on the run named in args and prints the run's state after
// it, after the words done; a refusal (the run has ended, or has not failed)
// exits 1.
func (c *cli) control(name, done string, args []string, act runAction) int {
	fs := c.flags(name, "RUNID")
	pos, code := c.parse(fs, args, 1, 1)
	if code >= 0 {
		return code
	}
	r, err := act(c.client, c.ctx, pos[0])
	if err != nil {
		return c.fail(name+" "+pos[0], err)
	}
	fmt.Fprintf(c.stdout, "run %s: %s%s\n", r.ID, done, r.Status)
	return exitOK
}
