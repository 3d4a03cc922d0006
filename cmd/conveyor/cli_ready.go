package main

import "time"

// ready is `conveyor ready`: exit 0 when the server answers GET /ready with
// 200 (NATS and etcd reachable), 1 when it answers otherwise, 3 when it does
// not answer. It is the health check of images that have no curl, such as
// the one deploy/Dockerfile builds (deploy/compose.yaml uses it).
func (c *cli) ready(args []string) int {
	fs := c.flags("ready", "[--timeout D]")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if _, code := c.parse(fs, args, 0, 0); code >= 0 {
		return code
	}
	ctx, cancel := contextWithTimeout(c.ctx, *timeout)
	defer cancel()
	if err := c.client.Ready(ctx); err != nil {
		return c.fail("ready", err)
	}
	return exitOK
}
