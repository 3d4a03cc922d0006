package main

import (
	"context"
	"fmt"

	"github.com/conveyor/conveyor/sdk"
	"github.com/spf13/cobra"
)

// runAction is an SDK call that acts on one run and answers its new state.
type runAction func(c *sdk.Client, ctx context.Context, id string) (sdk.Run, error)

// cancelCommand is `conveyor cancel RUNID`: the run ends as cancelled;
// steps not yet finished are not dispatched again.
func (c *cli) cancelCommand() *cobra.Command {
	return c.control("cancel", "cancel a run that has not ended", "", (*sdk.Client).CancelRun)
}

// retryCommand is `conveyor retry RUNID`: a failed run resumes from its
// failed steps.
func (c *cli) retryCommand() *cobra.Command {
	return c.control("retry", "resume a failed run from its failed steps", "retried, now ", (*sdk.Client).RetryRun)
}

// control runs act on the run named in args and prints the run's state after
// it, after the words done; a refusal (the run has ended, or has not failed)
// exits 1.
func (c *cli) control(name, short, done string, act runAction) *cobra.Command {
	return c.clientCommand(name+" RUNID", short, 1, 1, func(pos []string) int {
		id, ok := c.runID(name, pos[0])
		if !ok {
			return exitFailed
		}
		r, err := act(c.client, c.ctx, id)
		if err != nil {
			return c.fail(name+" "+pos[0], err)
		}
		fmt.Fprintf(c.stdout, "run %s: %s%s\n", r.ID, done, r.Status)
		return exitOK
	})
}
