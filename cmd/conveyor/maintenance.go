package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/conveyor/conveyor/sdk"
	"github.com/spf13/cobra"
)

// projectionsCommand is `conveyor projections rebuild|verify|parked|unpark`:
// rebuild asks the server to rebuild its read models from the log (into a
// fresh generation, switched to in one step while the API keeps serving);
// verify to replay the log and report every difference from them; both
// print progress and finish with counts. parked lists the events consumers
// set aside; unpark ID dismisses one. Exit codes: 0 done (verify: no
// difference), 1 failed or differences found, 2 usage, 3 server
// unreachable.
func (c *cli) projectionsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "projections", Short: "rebuild or verify the read models; parked events"}
	cmd.AddCommand(
		c.clientCommand("rebuild", "rebuild the read models from the event log", 0, 0, func([]string) int { return c.projectionJob("rebuild") }),
		c.clientCommand("verify", "replay the event log and report every difference from the read models", 0, 0, func([]string) int { return c.projectionJob("verify") }),
		c.parkedCommand(), c.unparkCommand())
	return cmd
}

// projectionJob runs the admin job rebuild or verify and follows its
// progress.
func (c *cli) projectionJob(job string) int {
	ctx, base, stdout, stderr := c.ctx, c.server, c.stdout, c.stderr
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/admin/projections/"+job, nil)
	if err != nil {
		fmt.Fprintf(stderr, "conveyor: %v\n", err)
		return 2
	}
	if t := resolveToken(c.token, base, os.Getenv); t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
	started := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "conveyor: server %s unreachable: %v\n", sdk.RedactURL(base), err)
		return 3
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		fmt.Fprintf(stderr, "conveyor: %s: %s %s\n", job, resp.Status, strings.TrimSpace(string(body)))
		return 1
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var line struct {
			Phase  string          `json:"phase"`
			Done   uint64          `json:"done"`
			Total  uint64          `json:"total"`
			Error  string          `json:"error"`
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			fmt.Fprintf(stderr, "conveyor: %s: unexpected answer %q\n", job, sc.Text())
			return 1
		}
		switch {
		case line.Error != "":
			fmt.Fprintf(stderr, "conveyor: %s failed: %s\n", job, line.Error)
			return 1
		case line.Result != nil:
			return reportJob(job, line.Result, time.Since(started), stdout)
		default:
			fmt.Fprintf(stderr, "%s: %d/%d\n", line.Phase, line.Done, line.Total)
		}
	}
	fmt.Fprintf(stderr, "conveyor: %s: the server closed the answer early\n", job)
	return 1
}

func reportJob(job string, result json.RawMessage, took time.Duration, stdout io.Writer) int {
	rate := func(n uint64) string {
		return fmt.Sprintf("%.0f events/s", float64(n)/took.Seconds())
	}
	if job == "rebuild" {
		var r struct {
			Events     uint64 `json:"events"`
			Keys       int    `json:"keys"`
			From       int    `json:"fromGeneration"`
			Generation int    `json:"generation"`
		}
		_ = json.Unmarshal(result, &r)
		fmt.Fprintf(stdout, "rebuilt %d events into %d keys, generation %d -> %d, in %v (%s)\n",
			r.Events, r.Keys, r.From, r.Generation, took.Round(time.Millisecond), rate(r.Events))
		return 0
	}
	var v struct {
		Events      uint64 `json:"events"`
		Keys        int    `json:"keys"`
		Differences []struct {
			Key, Expected, Actual string
		} `json:"differences"`
	}
	_ = json.Unmarshal(result, &v)
	for _, d := range v.Differences {
		switch {
		case d.Actual == "":
			fmt.Fprintf(stdout, "missing  %s\n  want %s\n", d.Key, d.Expected)
		case d.Expected == "":
			fmt.Fprintf(stdout, "extra    %s\n  have %s\n", d.Key, d.Actual)
		default:
			fmt.Fprintf(stdout, "differs  %s\n  want %s\n  have %s\n", d.Key, d.Expected, d.Actual)
		}
	}
	fmt.Fprintf(stdout, "verified %d events against %d keys in %v (%s): %d difference(s)\n",
		v.Events, v.Keys, took.Round(time.Millisecond), rate(v.Events), len(v.Differences))
	if len(v.Differences) > 0 {
		return 1
	}
	return 0
}

// parkedCommand is `conveyor projections parked [-o table|json|yaml]`:
// every event a consumer of the log set aside, oldest first.
func (c *cli) parkedCommand() *cobra.Command {
	var format *string
	cmd := c.clientCommand("parked [-o table|json|yaml]", "events the server's consumers could not handle and set aside", 0, 0, func([]string) int { return c.parked(*format) })
	format = outputFlag(cmd)
	return cmd
}

func (c *cli) parked(format string) int {
	parked, err := sdk.All(c.ctx, c.client.ParkedEvents)
	if err != nil {
		return c.fail("parked events", err)
	}
	return c.show(format, parked, func(tw *tabwriter.Writer) {
		tableRow(tw, "ID", "CONSUMER", "SEQUENCE", "TYPE", "AGGREGATE", "PARKED AT", "ERROR")
		for _, p := range parked {
			seq, aggregate := "", p.Aggregate
			if p.Sequence > 0 {
				seq = strconv.FormatUint(p.Sequence, 10)
			}
			if p.AggregateID != "" {
				aggregate += "/" + p.AggregateID
			}
			tableRow(tw, p.ID, p.Consumer, seq, p.Type, aggregate, p.ParkedAt.Local().Format(time.DateTime),
				strings.Join(strings.Fields(p.Error), " "))
		}
	})
}

// unparkCommand is `conveyor projections unpark ID`: it dismisses a parked
// event once its cause is dealt with.
func (c *cli) unparkCommand() *cobra.Command {
	return c.clientCommand("unpark ID", "dismiss a parked event once its cause is dealt with", 1, 1, c.unpark)
}

func (c *cli) unpark(pos []string) int {
	id, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil || id == 0 {
		fmt.Fprintf(c.stderr, "conveyor: projections unpark: %q is not the ID of a parked event (a number, as `conveyor projections parked` lists)\n", pos[0])
		return exitUsage
	}
	if err := c.client.RemoveParkedEvent(c.ctx, id); err != nil {
		return c.fail("unpark "+pos[0], err)
	}
	fmt.Fprintf(c.stdout, "parked event %d removed\n", id)
	return exitOK
}
