package main

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/conveyor/conveyor/sdk"
	"github.com/spf13/cobra"
)

// drivers is `conveyor drivers [-o table|json|yaml]`: the drivers the
// server knows, connected or not; and `conveyor drivers credentials NAME
// [--rotate] [--original]`: it issues the driver's credentials and prints the
// NATS URL that carries them alone on stdout, for the driver's
// CONVEYOR_NATS_URL: nats://TOKEN@host:port, or with --original, for a
// driver of the original runtime, nats://NAME:TOKEN@host:port.
func (c *cli) driversCommand() *cobra.Command {
	var run func(pos []string) int
	cmd := c.clientCommand("drivers [-o table|json|yaml] | credentials NAME [--rotate] [--original]", "the drivers the server knows; their NATS credentials", 0, 2, func(pos []string) int { return run(pos) })
	fs := cmd.Flags()
	rotate := fs.Bool("rotate", false, "revoke the driver's credentials and issue new ones")
	original := fs.Bool("original", false, "print the URL for a driver of Conveyor CI's original runtime: the driver's name as user, the token as password")
	format := outputFlag(cmd)
	run = func(pos []string) int {
		if len(pos) == 0 {
			return c.listDrivers(*format)
		}
		if pos[0] != "credentials" || len(pos) != 2 {
			c.usage(cmd)
			return exitUsage
		}
		cred, err := c.client.CreateDriverCredentials(c.ctx, pos[1], *rotate)
		if err != nil {
			return c.fail("driver credentials", err)
		}
		natsURL := cred.NATSURL
		if *original {
			natsURL = originalNATSURL(natsURL, cred.Name, cred.Token)
		}
		fmt.Fprintln(c.stdout, natsURL)
		fmt.Fprintf(c.stderr, "credentials of driver %s: shown this once; start the driver with CONVEYOR_NATS_URL set to this URL\n", cred.Name)
		return exitOK
	}
	return cmd
}

// originalNATSURL is natsURL with driver as its user and token as its
// password: the form that puts a driver of the original runtime, which
// makes its own consumer, in an account of its own (docs/security.md).
func originalNATSURL(natsURL, driver, token string) string {
	u, err := url.Parse(natsURL)
	if err != nil {
		return natsURL
	}
	u.User = url.UserPassword(driver, token)
	return u.String()
}

func (c *cli) listDrivers(format string) int {
	drivers, err := c.client.Drivers(c.ctx)
	if err != nil {
		return c.fail("drivers", err)
	}
	return c.show(format, drivers, func(tw *tabwriter.Writer) {
		tableRow(tw, "NAME", "CONNECTED", "INSTANCES", "RESOURCES", "LABELS", "PENDING", "IN FLIGHT")
		for _, d := range drivers {
			tableRow(tw, d.Name, d.Connected, len(d.Instances), strings.Join(d.Resources, ","), instanceLabels(d.Instances), d.Pending, d.InFlight)
		}
	})
}

// instanceLabels are the label sets of a driver's instances, each once:
// "gpu,linux linux", "-" when none has labels.
func instanceLabels(instances []sdk.DriverInstance) string {
	var sets []string
	for _, in := range instances {
		if len(in.Labels) > 0 {
			sets = append(sets, strings.Join(in.Labels, ","))
		}
	}
	if len(sets) == 0 {
		return "-"
	}
	slices.Sort(sets)
	return strings.Join(slices.Compact(sets), " ")
}
