package main

import (
	"time"

	"github.com/spf13/cobra"
)

// ready is `conveyor ready`: exit 0 when the server answers GET /ready with
// 200 (NATS and etcd reachable), 1 when it answers otherwise, 3 when it does
// not answer. It is the health check of images that have no curl, such as
// the one deploy/Dockerfile builds (deploy/compose.yaml uses it).
func (c *cli) readyCommand() *cobra.Command {
	var run func(pos []string) int
	cmd := c.clientCommand("ready [--timeout D]", "exit 0 when the server is ready (NATS and etcd reachable)", 0, 0, func(pos []string) int { return run(pos) })
	fs := cmd.Flags()
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	run = func(pos []string) int {
		ctx, cancel := contextWithTimeout(c.ctx, *timeout)
		defer cancel()
		if err := c.client.Ready(ctx); err != nil {
			return c.fail("ready", err)
		}
		return exitOK
	}
	return cmd
}
