package main

import "fmt"

// drivers is `conveyor drivers credentials NAME [--rotate]`: it issues the
// driver's credentials and prints the NATS URL that carries them alone on
// stdout, for the driver's CONVEYOR_NATS_URL.
func (c *cli) drivers(args []string) int {
	fs := c.flags("drivers", "credentials NAME [--rotate]")
	rotate := fs.Bool("rotate", false, "revoke the driver's credentials and issue new ones")
	pos, code := c.parse(fs, args, 2, 2)
	if code >= 0 {
		return code
	}
	if pos[0] != "credentials" {
		fs.Usage()
		return exitUsage
	}
	cred, err := c.client.CreateDriverCredentials(c.ctx, pos[1], *rotate)
	if err != nil {
		return c.fail("driver credentials", err)
	}
	fmt.Fprintln(c.stdout, cred.NATSURL)
	fmt.Fprintf(c.stderr, "credentials of driver %s: shown this once; start the driver with CONVEYOR_NATS_URL set to this URL\n", cred.Name)
	return exitOK
}
